package store

import "strings"

// runSQL writes the statements that read a session's runs where agno keeps
// them, for one layout: a runs table, agno 2.x's inline runs column, or
// both (agno 3.0 over a migrated table, whose runs column is a frozen
// legacy copy). Both are merged as agno 3.0 merges them
// (merge_runs_table_with_legacy_blob, libs/agno/agno/db/utils.py): the
// legacy array in its order, each entry replaced by the runs-table row with
// the same run_id, then the runs only the table has, in table order
// (run_index with NULLs last, created_at, run_id). Entries of the array
// that are not objects with a run_id are skipped, as agno skips them.
//
// Every statement refers to the session as the alias s, with its
// session_id, session_type and (when the layout has it) runs columns.
type runSQL struct {
	j       jsonSQL
	runs    string // quoted, qualified runs table; "" without one
	inline  bool   // the sessions table has the runs column
	runData string // the run_data value, normalised, over alias t
	legacy  string // the runs column's value, normalised, over alias s
}

func newRunSQL(j jsonSQL, l *layout, runsTable string) runSQL {
	r := runSQL{j: j, inline: l.inlineRuns()}
	if l.runsTable() {
		r.runs = runsTable
		r.runData = j.value("t.run_data", l.runCols["run_data"])
	}
	if r.inline {
		r.legacy = j.value("s."+legacyRunsColumn, l.sessionCols[legacyRunsColumn])
	}
	return r
}

// hasRuns reports whether the layout keeps runs anywhere.
func (r runSQL) hasRuns() bool { return r.runs != "" || r.inline }

// validEntry is the condition on an element of the legacy array that agno
// keeps it: an object with a non-null run_id.
func (r runSQL) validEntry(v string) string {
	return "(" + r.j.isObject(v) + " AND " + r.j.present(v, "run_id") + ")"
}

// tableOrder orders runs-table rows of alias a: run_index with NULLs last
// on both databases, then created_at, then run_id.
func (r runSQL) tableOrder(a string) string {
	if r.j.postgres {
		return a + ".run_index, " + a + ".created_at, " + a + ".run_id"
	}
	return a + ".run_index IS NULL, " + a + ".run_index, " + a + ".created_at, " + a + ".run_id"
}

// source is a FROM item listing the session's runs, merged, as alias m
// with the column d (the run's data) and the ordering columns grp, pos,
// run_index, created_at, run_id; order is their ORDER BY. When the
// layout has both sources, the merge is written only for the sessions
// whose array has elements (the others read the runs table alone, along
// agno's (session_id, run_index) index): the caller puts the two variants
// in a CASE on legacyNonEmpty.
func (r runSQL) tableSource() (from, order string) {
	return "(SELECT " + r.runData + " AS d, t.run_index, t.created_at, t.run_id FROM " + r.runs +
		" AS t WHERE t.session_id = s.session_id) AS m", r.tableOrder("m")
}

func (r runSQL) legacySource() (from, order string) {
	elems, value, pos := r.j.elements(r.legacy, "e")
	return "(SELECT " + value + " AS d, " + pos + " AS pos FROM " + elems + " WHERE " + r.validEntry(value) + ") AS m", "m.pos"
}

func (r runSQL) mergedSource() (from, order string) {
	elems, value, pos := r.j.elements(r.legacy, "e")
	others, otherValue, _ := r.j.elements(r.legacy, "x")
	nullInt, nullText := "NULL", "NULL"
	if r.j.postgres {
		nullInt, nullText = "NULL::bigint", "NULL::varchar"
	}
	from = "(SELECT COALESCE(" + r.runData + ", " + value + ") AS d, 0 AS grp, " + pos + " AS pos, " +
		nullInt + " AS run_index, " + nullInt + " AS created_at, " + nullText + " AS run_id" +
		" FROM " + elems + " LEFT JOIN " + r.runs + " AS t ON t.session_id = s.session_id AND t.run_id = " + r.j.text(value, "run_id") +
		" WHERE " + r.validEntry(value) +
		" UNION ALL SELECT " + r.runData + ", 1, NULL, t.run_index, t.created_at, t.run_id FROM " + r.runs + " AS t" +
		" WHERE t.session_id = s.session_id AND NOT EXISTS (SELECT 1 FROM " + others +
		" WHERE " + r.validEntry(otherValue) + " AND " + r.j.text(otherValue, "run_id") + " = t.run_id)) AS m"
	order = "m.grp, m.pos, "
	if r.j.postgres {
		order += "m.run_index, m.created_at, m.run_id"
	} else {
		order += "m.run_index IS NULL, m.run_index, m.created_at, m.run_id"
	}
	return from, order
}

// legacyNonEmpty is true when the session's runs column holds an array
// with elements.
func (r runSQL) legacyNonEmpty() string { return r.j.nonEmptyArray(r.legacy) }

// eachSource calls write with every variant of the run source and returns
// their combination: one variant alone, or a CASE between the merge and
// the runs table alone.
func (r runSQL) eachSource(write func(from, order string) string) string {
	switch {
	case r.runs != "" && r.inline:
		return "(CASE WHEN " + r.legacyNonEmpty() + " THEN " + write(r.mergedSource()) + " ELSE " + write(r.tableSource()) + " END)"
	case r.runs != "":
		return write(r.tableSource())
	case r.inline:
		return write(r.legacySource())
	}
	return ""
}

// first is a scalar subquery: sel of the first run, in order, for which
// where holds, joined with the optional FROM item extra (which may use
// m.d) ordered after the run by extraOrder. sel, where and extra are
// templates in which "{d}" stands for the run's data.
func (r runSQL) first(sel, where, extra, extraOrder string) string {
	if !r.hasRuns() {
		return "NULL"
	}
	return r.eachSource(func(from, order string) string {
		q := "(SELECT " + fill(sel) + " FROM " + from
		if extra != "" {
			if r.j.postgres {
				q += " CROSS JOIN LATERAL " + fill(extra)
			} else {
				q += ", " + fill(extra)
			}
		}
		if where != "" {
			q += " WHERE " + fill(where)
		}
		q += " ORDER BY " + order
		if extraOrder != "" {
			q += ", " + extraOrder
		}
		return q + " LIMIT 1)"
	})
}

// count is a scalar subquery counting the session's runs for which where
// holds ("" for all).
func (r runSQL) count(where string) string {
	if !r.hasRuns() {
		return "0"
	}
	return r.eachSource(func(from, _ string) string {
		q := "(SELECT count(*) FROM " + from
		if where != "" {
			q += " WHERE " + fill(where)
		}
		return q + ")"
	})
}

// fill puts the run's data into a template.
func fill(tmpl string) string { return strings.ReplaceAll(tmpl, "{d}", "m.d") }

// listedRun is the condition under which GET /sessions/{id}/runs lists a
// run of the session s, as AgentOS classifies runs
// (classify_session_run): a team session drops the runs that carry
// neither an agent_id nor a team_id.
func (r runSQL) listedRun() string {
	return "(s.session_type <> 'team' OR " + r.j.present("{d}", "agent_id") + " OR " + r.j.present("{d}", "team_id") + ")"
}

// nameSource is the text from which the session's name is made when
// session_data names none (store.Session.Name, AgentOS's
// get_session_name): NULL when session_data has a non-null
// session_name; otherwise a tag and the JSON text of a value:
//
//   - "m" and the content of the first user message with truthy content
//     across the runs in order (agent sessions; team sessions over their
//     runs without a truthy agent_id),
//   - "i" and the input of the first run with a non-null one, when no run
//     has such a message,
//   - "w" and the first run's input (JSON null when it has none), for a
//     workflow session,
//   - NULL when nothing is found.
//
// Only the runs up to the first match are read; a named session reads
// none. sessionData is the session_data value over alias s.
func (r runSQL) nameSource(sessionData string) string {
	j := r.j
	msgs, msgValue, msgPos := j.elements(j.get("{d}", "messages"), "msg")
	content := j.get(msgValue, "content")
	teamFilter := "(s.session_type <> 'team' OR COALESCE(" + j.text("{d}", "agent_id") + ", '') = '')"
	firstMessage := r.first(j.jsonText(content), teamFilter+" AND "+j.text(msgValue, "role")+" = 'user' AND "+j.truthy(content), msgs, msgPos)
	firstInput := r.first(j.jsonText(j.get("{d}", "input")), teamFilter+" AND "+j.present("{d}", "input"), "", "")
	workflowInput := r.first("COALESCE("+j.jsonText(j.get("{d}", "input"))+", 'null')", "", "", "")
	if !r.hasRuns() {
		return "NULL"
	}
	return "(CASE WHEN " + j.present(sessionData, "session_name") + " THEN NULL" +
		" WHEN s.session_type = 'workflow' THEN 'w' || " + workflowInput +
		" ELSE COALESCE('m' || " + firstMessage + ", 'i' || " + firstInput + ") END)"
}
