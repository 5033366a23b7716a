SELECT if(code = 3, NULL, toDateTime(intDiv(code, 4), {tz:String})) AS bucket,
  sumIf(n, code % 4 = 0) AS enrolled_users, sumIf(n, code % 4 = 1) AS completed_users, sumIf(n, code % 4 = 2) AS exited_users,
  sumIf(n, code = 3) AS enrolled, sum(completed) AS completed, sum(exited) AS exited, anyIf(median_ms, code = 3) AS median_ms, anyIf(avg_ms, code = 3) AS avg_ms
FROM (
  SELECT code, count() AS n, countIf(code = 3 AND has_goal) AS completed, countIf(code = 3 AND NOT has_goal AND has_exit) AS exited,
    quantileExactInclusiveIf(0.5)(goal - e, code = 3 AND has_goal) AS median_ms, avgIf(goal - e, code = 3 AND has_goal) AS avg_ms
  FROM (
    SELECT e, goal, has_goal, has_exit, arrayJoin(arrayCompact(arraySort(arrayConcat([toUInt64(3)],
        arrayMap(x -> toUInt64(toUInt32(toStartOfDay(toTimeZone(toDateTime(intDiv(x, 1000), 'UTC'), {tz:String})))) * 4, ens),
        if(has_goal, arrayMap(x -> toUInt64(toUInt32(toStartOfDay(toTimeZone(toDateTime(intDiv(x, 1000), 'UTC'), {tz:String})))) * 4 + 1, arrayFilter(x -> x > e AND x < {to_ms:Int64}, gs)), []),
        if(has_exit, arrayMap(x -> toUInt64(toUInt32(toStartOfDay(toTimeZone(toDateTime(intDiv(x, 1000), 'UTC'), {tz:String})))) * 4 + 2, arrayFilter(x -> x > e AND x < {to_ms:Int64}, xs)), []))))) AS code
    FROM (SELECT workflow_id, user_id, ens, gs, xs, arrayMin(ens) AS e, '' AS dept,
      arrayMax(gs) > e AS has_goal,
      if(has_goal, arrayMin(arrayFilter(x -> x > e, gs)), toInt64(-1)) AS goal,
      arrayMax(xs) > e AS has_exit
    FROM (
      SELECT {workflow_id:String} AS workflow_id, user_id, groupArrayArray(enr) AS ens, groupArrayArray(goals) AS gs, groupArrayArray(exits) AS xs
      FROM (SELECT workflow_id, user_id, tupleElement(CAST(enrolments, 'Array(Tuple(Int64, String))'), 1) AS enr,
        CAST(goals, 'Array(Int64)') AS goals, CAST(exits, 'Array(Int64)') AS exits
      FROM {db}.funnels_wf_enrolments_1d
      WHERE org_id = {org_id:String} AND workflow_id = {workflow_id:String} AND bucket >= toDateTime(intDiv({p0_from:Int64}, 1000), 'UTC') AND bucket < toDateTime(intDiv({p0_to:Int64}, 1000), 'UTC')
  UNION ALL
  SELECT workflow_id, user_id, groupArrayIf(toUnixTimestamp64Milli(timestamp), action = 'enrolled') AS enr,
        groupArrayIf(toUnixTimestamp64Milli(timestamp), action = 'goal_reached') AS goals, groupArrayIf(toUnixTimestamp64Milli(timestamp), action = 'exited') AS exits
      FROM {db}.events
      WHERE org_id = {org_id:String} AND workflow_id = {workflow_id:String} AND (event_type = 'workflow_step' AND user_id != '' AND action IN ('enrolled', 'goal_reached', 'exited')) AND timestamp >= fromUnixTimestamp64Milli({p1_from:Int64}, 'UTC')
        AND timestamp < fromUnixTimestamp64Milli({p1_to:Int64}, 'UTC')
        AND inserted_at > fromUnixTimestamp64Milli({outcomes_watermark:Int64}, 'UTC')
      GROUP BY workflow_id, user_id, department_id
  UNION ALL
  SELECT workflow_id, user_id, CAST([], 'Array(Int64)') AS enr,
        CAST(goals, 'Array(Int64)') AS goals, CAST(exits, 'Array(Int64)') AS exits
      FROM {db}.funnels_wf_enrolments_1d
      WHERE org_id = {org_id:String} AND workflow_id = {workflow_id:String} AND (notEmpty(goals) OR notEmpty(exits)) AND bucket >= toDateTime(intDiv({p2_from:Int64}, 1000), 'UTC') AND bucket < toDateTime(intDiv({p2_to:Int64}, 1000), 'UTC')
  UNION ALL
  SELECT workflow_id, user_id, CAST([], 'Array(Int64)') AS enr,
        groupArrayIf(toUnixTimestamp64Milli(timestamp), action = 'goal_reached') AS goals, groupArrayIf(toUnixTimestamp64Milli(timestamp), action = 'exited') AS exits
      FROM {db}.events
      WHERE org_id = {org_id:String} AND workflow_id = {workflow_id:String} AND (event_type = 'workflow_step' AND user_id != '' AND action IN ('enrolled', 'goal_reached', 'exited')) AND action != 'enrolled' AND timestamp >= fromUnixTimestamp64Milli({p3_from:Int64}, 'UTC')
        AND timestamp < fromUnixTimestamp64Milli({p3_to:Int64}, 'UTC')
        AND inserted_at > fromUnixTimestamp64Milli({outcomes_watermark:Int64}, 'UTC')
      GROUP BY workflow_id, user_id, department_id
  UNION ALL
  SELECT workflow_id, user_id, CAST([], 'Array(Int64)') AS enr,
        groupArrayIf(toUnixTimestamp64Milli(timestamp), action = 'goal_reached') AS goals, groupArrayIf(toUnixTimestamp64Milli(timestamp), action = 'exited') AS exits
      FROM {db}.events
      WHERE org_id = {org_id:String} AND workflow_id = {workflow_id:String} AND (event_type = 'workflow_step' AND user_id != '' AND action IN ('enrolled', 'goal_reached', 'exited')) AND action != 'enrolled' AND timestamp >= fromUnixTimestamp64Milli({p4_from:Int64}, 'UTC')
        
        
      GROUP BY workflow_id, user_id, department_id)
      GROUP BY user_id
      HAVING notEmpty(ens)
    ))
  )
  GROUP BY code
)
GROUP BY bucket ORDER BY bucket