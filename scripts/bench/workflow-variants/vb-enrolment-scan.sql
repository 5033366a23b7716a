SELECT toStartOfDay(toTimeZone(toDateTime(intDiv(x.1, 1000), 'UTC'), {tz:String})) AS b, count() AS n, countIf(x.1 % 7 = 0) AS c, quantileExactInclusiveIf(0.5)(x.1, x.1 % 10 = 0) AS m
FROM {db}.funnels_wf_enrolments_1d ARRAY JOIN enrolments AS x
WHERE org_id = {org_id:String} AND workflow_id = {workflow_id:String} AND bucket >= toDateTime(intDiv({p0_from:Int64}, 1000), 'UTC') AND bucket < toDateTime(intDiv({p0_to:Int64}, 1000), 'UTC')
GROUP BY b WITH TOTALS ORDER BY b
