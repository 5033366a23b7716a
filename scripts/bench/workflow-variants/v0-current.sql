SELECT if(p.2 = 3, NULL, p.1) AS bucket,
      countIf(p.2 = 0) AS enrolled_users, countIf(p.2 = 1) AS completed_users, countIf(p.2 = 2) AS exited_users,
      countIf(p.2 = 3) AS enrolled, countIf(p.2 = 3 AND has_goal) AS completed, countIf(p.2 = 3 AND NOT has_goal AND has_exit) AS exited,
      quantileExactInclusiveIf(0.5)(goal - e, p.2 = 3 AND has_goal) AS median_ms, avgIf(goal - e, p.2 = 3 AND has_goal) AS avg_ms
    FROM (
      SELECT e, goal, has_goal, has_exit, arrayJoin(arrayDistinct(arrayMap(x -> (toStartOfDay(toTimeZone(fromUnixTimestamp64Milli(x.1, 'UTC'), {tz:String})), x.2), arrayConcat(
          [(e, 3)],
          arrayZip(ens, arrayWithConstant(length(ens), 0)),
          if(has_goal, arrayMap(x -> (x, 1), arrayFilter(x -> x > e AND x < {to_ms:Int64}, gs)), []),
          if(has_exit, arrayMap(x -> (x, 2), arrayFilter(x -> x > e AND x < {to_ms:Int64}, xs)), []))))) AS p
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
    GROUP BY bucket ORDER BY bucket