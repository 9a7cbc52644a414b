package store

import "strings"

// Columns of a session as every session read returns them, in the order
// sessionRow scans them, over the alias s.
var sessionColumns = []string{
	"session_id", "session_type", "agent_id", "team_id", "workflow_id", "user_id",
	"session_data", "agent_data", "team_data", "workflow_data", "metadata", "summary",
	"created_at", "updated_at",
}

// unlisted are the session columns a list does not read.
// (workflow_data names a workflow session that has no name of its own).
var unlisted = map[string]bool{"agent_data": true, "team_data": true}

// runColumns are the columns of a runs-table row, in the order runRow scans
// them.
var runColumns = []string{
	"run_id", "session_id", "run_type", "agent_id", "team_id", "workflow_id", "user_id",
	"parent_run_id", "status", "run_index", "run_data", "created_at", "updated_at",
}

// layoutSQL holds the statements of one table pair in one layout. They are
// put together from configured, quoted names and constant fragments only;
// request values always travel as bind parameters.
type layoutSQL struct {
	postgres bool
	sessions string // quoted, qualified sessions table
	runs     string // quoted, qualified runs table; "" when there is none
	run      runSQL
	j        jsonSQL

	// sessionCols lists sessionColumns over the alias s. listCols reads
	// them but for agent_data and team_data (NULL in their place: a list
	// renders neither), then the name source. readCols
	// reads them all, the name source and the runs column (or NULL), for
	// the read of one session, which needs its legacy runs; a list never
	// reads them.
	sessionCols string
	listCols    string
	readCols    string
	// nameFilter is the stored session name as text, over the alias s, for
	// the session_name filter; ilike is the case-insensitive LIKE.
	nameFilter string
	ilike      string
	// forUpdate locks the rows a SELECT reads until the transaction ends;
	// SQLite needs nothing, as its write transactions hold the database
	// lock from BEGIN.
	forUpdate string

	// runsSelect reads a session's runs-table rows ($1/?1 the session id)
	// in table order; runSelect one of them ($2/?2 the run id).
	runsSelect string
	runSelect  string

	// Deletes: deleteSQL[mode][byUser][report]; on SQLite the same
	// statement for every lock mode. countSQL[byUser] counts the listed
	// runs of each target session on SQLite. extraSteps is true when the
	// delete must also remove runs explicitly (no ON DELETE CASCADE) or
	// tool results.
	deleteSQL  [lockModes][2][2]string
	countSQL   [2]string
	extraSteps bool
	// stepsSQL[byUser] are the statements a SQLite delete runs before the
	// session delete, in its transaction (see sqliteSteps);
	// toolResultsSQL[byUser] counts the tool results and payloads they
	// remove ("" without tool results).
	stepsSQL       [2][]string
	toolResultsSQL [2]string
}

// buildSQL writes the statements of l.
func (t *sessionsTable) buildSQL(l *layout) *layoutSQL {
	d := t.db
	pg := d.dialect == DialectPostgres
	j := jsonSQL{postgres: pg}
	s := &layoutSQL{
		postgres:    pg,
		sessions:    d.qualified(t.names.Sessions),
		j:           j,
		sessionCols: columnList("s.", sessionColumns),
	}
	if l.runsTable() {
		s.runs = d.qualified(t.names.Runs)
	}
	s.run = newRunSQL(j, l, s.runs)
	sessionData := j.value("s.session_data", l.sessionCols["session_data"])
	legacy := "NULL"
	if l.inlineRuns() {
		legacy = "s." + legacyRunsColumn
	}
	listed := make([]string, len(sessionColumns))
	for i, c := range sessionColumns {
		listed[i] = "s." + c
		if unlisted[c] {
			listed[i] = "NULL"
		}
	}
	nameSource := s.run.nameSource(sessionData)
	s.listCols = strings.Join(listed, ", ") + ", " + nameSource
	s.readCols = s.sessionCols + ", " + nameSource + ", " + legacy
	s.nameFilter = nameExpr(j, "s.", l)
	if !pg {
		// SQLite parses JSON text again in every function, and the
		// json_valid that guards value's decoding is one parse more for
		// every session a name search reads (1.3–1.5× the earlier
		// json_extract statement on 1,000,000 sessions). An object, which
		// is what agno writes, is read straight away; text that starts
		// like one but is no JSON fails the search, as json_extract did.
		s.nameFilter = "(CASE WHEN substr(s.session_data, 1, 1) = '{' THEN s.session_data ->> '$.session_name' ELSE " + s.nameFilter + " END)"
	}
	if pg {
		s.ilike = "ILIKE"
		s.forUpdate = " FOR UPDATE"
	} else {
		// SQLite's LIKE already ignores the case of ASCII letters.
		s.ilike = "LIKE"
	}
	if s.runs != "" {
		p := d.placeholder
		cols := columnList("", runColumns)
		s.runsSelect = "SELECT " + cols + " FROM " + s.runs + " AS t WHERE session_id = " + p(1) + " ORDER BY " + s.run.tableOrder("t")
		s.runSelect = "SELECT " + cols + " FROM " + s.runs + " WHERE session_id = " + p(1) + " AND run_id = " + p(2)
	}
	s.extraSteps = (s.runs != "" && !l.runsCascade) || l.toolResults
	for byUser := range 2 {
		for report := range 2 {
			for mode := range lockModes {
				if pg {
					s.deleteSQL[mode][byUser][report] = s.postgresDelete(t, l, byUser == 1, report == 1, mode)
				} else {
					s.deleteSQL[mode][byUser][report] = s.sqliteDelete(byUser == 1, report == 1)
				}
			}
		}
		if !pg {
			s.countSQL[byUser] = s.sqliteCount(byUser == 1)
			s.stepsSQL[byUser], s.toolResultsSQL[byUser] = s.sqliteSteps(l, s.sqliteTargets(byUser == 1))
		}
	}
	return s
}

func columnList(prefix string, cols []string) string {
	qualified := make([]string, len(cols))
	for i, c := range cols {
		qualified[i] = prefix + c
	}
	return strings.Join(qualified, ", ")
}

// sessionsTable is one configured session table and its runs table; it
// implements Sessions. Its statements are built from configured names
// only, for the layout last read (see tableState).
type sessionsTable struct {
	db    *database
	names TablePair
	stateCell
}

var _ Sessions = (*sessionsTable)(nil)

func newSessionsTable(d *database, pair TablePair) *sessionsTable {
	return &sessionsTable{db: d, names: pair}
}

// nameExpr is the session's stored name as text (session_data's
// session_name, whatever its encoding), over the alias prefix ("s." or ""
// for an index): the expression the session_name filter matches, and on
// PostgreSQL the expression of its trigram index, spelled the same so the
// planner matches the two.
func nameExpr(j jsonSQL, alias string, l *layout) string {
	return j.text(j.value(alias+"session_data", l.sessionCols["session_data"]), "session_name")
}
