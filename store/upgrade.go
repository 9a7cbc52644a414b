package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"strings"
)

// UpgradeOptions change what Upgrade does.
type UpgradeOptions struct {
	// DryRun prints the plan, refusals included, to Out and changes
	// nothing.
	DryRun bool
	Out    io.Writer
	// ServerApplicationName is the application_name the servers' own
	// PostgreSQL connections use (ConnSettings.ApplicationName):
	// Upgrade refuses while a connection with that name is open.
	ServerApplicationName string
}

// ErrUpgradeRefused means Upgrade found a reason not to touch a database
// (a server still connected, run ids shared by sessions, tables in the
// way); nothing was changed.
var ErrUpgradeRefused = errors.New("upgrade refused")

// upgradeBatch is how many runs are converted per statement, and how often
// progress is logged.
const upgradeBatch = 10_000

// Upgrade brings every configured table pair onto agno's layout, as the
// `migrate` command does: a pair in this server's earlier layout (found by
// its agentos_schema_migrations rows, in public or on the connection's
// search_path) is moved into the configured schema and converted; the
// runs table this server's earlier releases left next to agno's sessions
// table is converted, and only the indexes this server added there are
// dropped; a missing pair is created; then the indexes this server
// recommends are built, on PostgreSQL concurrently. Each database's
// conversion is one transaction: all of it, or nothing.
func Upgrade(ctx context.Context, dbs []DatabaseConfig, settings ConnSettings, opts UpgradeOptions, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	serverName := opts.ServerApplicationName
	if serverName == "" {
		serverName = DefaultApplicationName
	}
	// The upgrade's own connections say what they are, so that the check
	// for a running server does not find them.
	settings.ApplicationName = serverName + " migrate"
	c, err := openWith(ctx, dbs, settings, logger)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	for _, d := range c.databases {
		if err := d.upgrade(ctx, serverName, opts); err != nil {
			return fmt.Errorf("database %q: %w", d.id, err)
		}
	}
	return nil
}

// pairUpgrade is what Upgrade does to one table pair.
type pairUpgrade struct {
	t *sessionsTable
	// earlier: both tables are in this server's earlier layout. hybrid:
	// the earlier runs table is next to agno's sessions table.
	earlier, hybrid bool
	// from is where agentos_schema_migrations records the pair (a schema;
	// "main" on SQLite), "" when it does not.
	from string
}

func (p pairUpgrade) converts() bool { return p.earlier || p.hybrid }

func (d *database) upgrade(ctx context.Context, serverName string, opts UpgradeOptions) error {
	var plans []pairUpgrade
	var refusals []string
	for _, t := range d.tables {
		p, refusal, err := d.planUpgrade(ctx, t)
		if err != nil {
			return err
		}
		plans = append(plans, p)
		refusals = append(refusals, refusal...)
	}
	converting := false
	for _, p := range plans {
		converting = converting || p.converts()
	}
	if converting && d.dialect == DialectPostgres {
		n, err := d.serverConnections(ctx, serverName)
		if err != nil {
			return err
		}
		if n > 0 {
			refusals = append(refusals, fmt.Sprintf("%d connection(s) named %q (a running agentos-sessions) are open on the database; stop every server first", n, serverName))
		}
	}
	if opts.DryRun {
		d.printPlan(opts.Out, plans, refusals)
	}
	if len(refusals) > 0 {
		return fmt.Errorf("%w: %s", ErrUpgradeRefused, strings.Join(refusals, "; "))
	}
	if opts.DryRun {
		return nil
	}
	if converting {
		if err := d.convert(ctx, plans); err != nil {
			return err
		}
	}
	if err := d.prepare(ctx); err != nil {
		return err
	}
	if d.dialect == DialectSQLite {
		d.logger.InfoContext(ctx, "building indexes on SQLite holds the database's write lock: agno's writers wait until each is built", "database", d.id)
	}
	trgm, err := d.installTrigram(ctx, d.sqlDB)
	if err != nil {
		return err
	}
	for _, t := range d.tables {
		if err := d.buildIndexes(ctx, d.recommendedIndexes(t.names, t.state.Load().layout, trgm)); err != nil {
			return err
		}
	}
	return nil
}

// planUpgrade finds what to do with a pair, and why it cannot be done.
func (d *database) planUpgrade(ctx context.Context, t *sessionsTable) (pairUpgrade, []string, error) {
	p := pairUpgrade{t: t}
	from, err := d.earlierLayoutAt(ctx, t.names.Sessions)
	if err != nil {
		return p, nil, err
	}
	l, err := d.probe(ctx, d.sqlDB, t.names)
	if err != nil {
		return p, nil, err
	}
	earlierRuns := l.runsTable() && (l.runCols["run_type"] == "" || l.runCols["run_index"] == "")
	// agno's own sessions table has agno 2.x's runs column, or a version
	// row; the earlier layout's had neither.
	agnoSessions := l.inlineRuns() || l.versions[t.names.Sessions] != ""
	p.from = from
	var refusals []string
	switch {
	case from != "" && from != d.schemaOrMain() && (l.sessionsExist() || l.runsTable()):
		refusals = append(refusals, fmt.Sprintf("the earlier layout of %s is in %s, and %s already has tables of those names; move or drop one of them first",
			t.names.Sessions, from, d.describeTable(t.names.Sessions)))
	case earlierRuns && agnoSessions:
		p.hybrid = true
	case from != "" && (from != d.schemaOrMain() || earlierRuns):
		p.earlier = true
	case l.sessionsExist():
		if err := d.check(t.names, l, ""); err != nil {
			refusals = append(refusals, err.Error())
		}
	}
	if p.converts() {
		dups, n, err := d.sharedRunIDs(ctx, p)
		if err != nil {
			return p, nil, err
		}
		if n > 0 {
			refusals = append(refusals, fmt.Sprintf("%d run id(s) are used by more than one session of %s (agno keys runs by run_id alone): %s; give those runs ids of their own first",
				n, t.names.Sessions, strings.Join(dups, ", ")))
		}
	}
	return p, refusals, nil
}

// earlierTable is a table of the pair where the upgrade finds it.
func (d *database) earlierTable(p pairUpgrade, name string) string {
	if !p.earlier || d.dialect == DialectSQLite {
		return d.qualified(name)
	}
	return quoteIdent(p.from) + "." + quoteIdent(name)
}

// sharedRunIDs lists (up to 10 of) the run ids used by more than one
// session, and how many there are: the earlier layout keyed runs by
// (session_id, run_id), agno keys them by run_id.
func (d *database) sharedRunIDs(ctx context.Context, p pairUpgrade) ([]string, int, error) {
	rows, err := d.sqlDB.QueryContext(ctx, "SELECT run_id, count(*) OVER () FROM "+d.earlierTable(p, p.t.names.Runs)+
		" GROUP BY run_id HAVING count(DISTINCT session_id) > 1 ORDER BY run_id LIMIT 10")
	if err != nil {
		return nil, 0, fmt.Errorf("look for shared run ids: %w", err)
	}
	defer rows.Close()
	var ids []string
	total := 0
	for rows.Next() {
		var id string
		if err := rows.Scan(&id, &total); err != nil {
			return nil, 0, err
		}
		ids = append(ids, fmt.Sprintf("%q", id))
	}
	return ids, total, rows.Err()
}

// serverConnections counts the open connections named like a server's.
func (d *database) serverConnections(ctx context.Context, name string) (int, error) {
	var n int
	err := d.sqlDB.QueryRowContext(ctx, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1", name).Scan(&n)
	return n, err
}

// printPlan writes what Upgrade would do.
func (d *database) printPlan(w io.Writer, plans []pairUpgrade, refusals []string) {
	var b strings.Builder
	fmt.Fprintf(&b, "database %q:\n", d.id)
	for _, p := range plans {
		n := p.t.names
		switch {
		case p.earlier:
			if d.dialect == DialectPostgres && p.from != d.schema {
				fmt.Fprintf(&b, "  move %s.%s and %s.%s into schema %s\n", p.from, n.Sessions, p.from, n.Runs, d.schema)
			}
			fmt.Fprintf(&b, "  convert %s and %s from this server's earlier layout to agno 3.0's (runs keyed by run_id, run_type and run_index filled, run_data completed, the legacy runs column added, version rows written)\n",
				d.describeTable(n.Sessions), d.describeTable(n.Runs))
		case p.hybrid:
			fmt.Fprintf(&b, "  convert the runs table %s (left by an earlier release next to agno's %s) to agno 3.0's, and drop the indexes this server added to %s\n",
				d.describeTable(n.Runs), d.describeTable(n.Sessions), d.describeTable(n.Sessions))
		default:
			fmt.Fprintf(&b, "  %s: nothing to convert\n", d.describeTable(n.Sessions))
		}
		fmt.Fprintf(&b, "  then create the pair if it is missing, and build the recommended indexes that are missing or invalid\n")
	}
	for _, r := range refusals {
		fmt.Fprintf(&b, "  REFUSED: %s\n", r)
	}
	_, _ = io.WriteString(w, b.String())
}

// convert runs every conversion of the database in one transaction, on
// one connection (on SQLite with foreign keys off while tables are
// rebuilt, as SQLite's own procedure for changing a table requires).
func (d *database) convert(ctx context.Context, plans []pairUpgrade) (err error) {
	conn, err := d.sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	if d.dialect == DialectSQLite {
		if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
			return err
		}
		defer func() {
			if _, ferr := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = ON"); ferr != nil && err == nil {
				err = ferr
			}
		}()
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if d.dialect == DialectPostgres {
		for _, q := range []string{"SET LOCAL statement_timeout = 0",
			fmt.Sprintf("SET LOCAL lock_timeout = %d", createLockTimeout.Milliseconds()),
			fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", migrationLockKey)} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
	}
	for _, p := range plans {
		if !p.converts() {
			continue
		}
		if err := d.convertPair(ctx, tx, p); err != nil {
			return fmt.Errorf("convert %s: %w", p.t.names.Sessions, err)
		}
	}
	if d.dialect == DialectSQLite {
		rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
		if err != nil {
			return err
		}
		bad := rows.Next()
		err = rows.Err()
		rows.Close()
		if err != nil {
			return err
		}
		if bad {
			return errors.New("the converted tables fail SQLite's foreign key check")
		}
	}
	return tx.Commit()
}

// convertPair converts one pair inside the conversion's transaction.
func (d *database) convertPair(ctx context.Context, tx *sql.Tx, p pairUpgrade) error {
	n := p.t.names
	exec := func(q string, args ...any) error {
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	}
	if p.earlier && d.dialect == DialectPostgres && p.from != d.schema {
		for _, q := range []string{
			"CREATE SCHEMA IF NOT EXISTS " + quoteIdent(d.schema),
			"ALTER TABLE " + quoteIdent(p.from) + "." + quoteIdent(n.Sessions) + " SET SCHEMA " + quoteIdent(d.schema),
			"ALTER TABLE " + quoteIdent(p.from) + "." + quoteIdent(n.Runs) + " SET SCHEMA " + quoteIdent(d.schema),
		} {
			if err := exec(q); err != nil {
				return err
			}
		}
		d.logger.InfoContext(ctx, "moved tables", "database", d.id, "from", p.from, "to", d.schema, "tables", n.Sessions+", "+n.Runs)
	}
	created := []ddl{}
	if p.earlier {
		// The sessions table was this server's: it gains agno 2.x's runs
		// column (on SQLite the table is rebuilt with agno's declared
		// types) and agno's indexes beside the list indexes.
		if d.dialect == DialectPostgres {
			if err := exec("ALTER TABLE " + d.qualified(n.Sessions) + " ADD COLUMN " + legacyRunsColumn + " jsonb"); err != nil {
				return err
			}
		} else if err := d.rebuildSessionsSQLite(ctx, tx, n); err != nil {
			return err
		}
		for _, stmt := range d.freshLayout(n) {
			if stmt.table == n.Sessions && stmt.objectType == "index" {
				created = append(created, stmt)
			}
		}
		// Version 1's single-column indexes, where a database stopped there.
		for _, suffix := range []string{"session_type", "user_id", "created_at"} {
			if err := exec("DROP INDEX IF EXISTS " + d.qualified(indexName(n.Sessions, suffix))); err != nil {
				return err
			}
		}
	} else {
		// agno's sessions table keeps what agno made; the indexes this
		// server's earlier releases added go (Upgrade builds the ones it
		// recommends afterwards, as on any table agno created).
		for _, suffix := range []string{"session_type", "user_id", "created_at"} {
			if err := exec("DROP INDEX IF EXISTS " + d.qualified(indexName(n.Sessions, suffix))); err != nil {
				return err
			}
		}
		for _, ix := range listIndexes {
			if err := exec("DROP INDEX IF EXISTS " + d.qualified(indexName(n.Sessions, ix.suffix))); err != nil {
				return err
			}
		}
	}
	runsDDL, err := d.rebuildRuns(ctx, tx, n)
	if err != nil {
		return err
	}
	created = append(created, runsDDL...)
	for _, stmt := range created {
		if stmt.objectType != "index" {
			continue
		}
		if err := exec(strings.Replace(stmt.sql, "CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)); err != nil {
			return err
		}
	}
	for _, q := range d.bookkeeping() {
		if err := exec(q); err != nil {
			return err
		}
	}
	now := isoNow()
	ph := d.placeholder
	versions := [][2]string{{n.Runs, runsTableVersion}}
	recorded := []ddl{}
	if p.earlier {
		versions = append(versions, [2]string{n.Sessions, sessionsTableVersion})
		recorded = append(recorded, ddl{objectType: "table", objectName: n.Sessions, table: n.Sessions})
	}
	recorded = append(recorded, ddl{objectType: "table", objectName: n.Runs, table: n.Runs})
	recorded = append(recorded, created...)
	for _, v := range versions {
		if err := exec("INSERT INTO "+d.qualified(versionsTable)+" (table_name, version, created_at, updated_at) VALUES ("+ph(1)+", "+ph(2)+", "+ph(3)+", "+ph(3)+
			") ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at", v[0], v[1], now); err != nil {
			return err
		}
	}
	for _, o := range recorded {
		if err := exec("INSERT INTO "+d.qualified(objectsTable)+" (object_type, object_name, table_name, created_at) VALUES ("+
			ph(1)+", "+ph(2)+", "+ph(3)+", "+ph(4)+") ON CONFLICT (object_type, object_name) DO NOTHING", o.objectType, o.objectName, o.table, now); err != nil {
			return err
		}
	}
	// The pair is no longer in the earlier layout.
	if p.from != "" {
		migrations := d.earlierTable(p, earlierMigrationsTable)
		if err := exec("DELETE FROM "+migrations+" WHERE sessions_table = "+ph(1), n.Sessions); err != nil {
			return err
		}
		var left int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+migrations).Scan(&left); err != nil {
			return err
		}
		if left == 0 {
			if err := exec("DROP TABLE " + migrations); err != nil {
				return err
			}
		}
	}
	d.logger.InfoContext(ctx, "converted to agno's layout", "database", d.id, "sessions_table", d.describeTable(n.Sessions), "runs_table", d.describeTable(n.Runs))
	return nil
}

// rebuildSessionsSQLite rebuilds the earlier sessions table with agno's
// declared types and the runs column.
func (d *database) rebuildSessionsSQLite(ctx context.Context, tx *sql.Tx, n TablePair) error {
	tmp := n.Sessions + "__agno"
	fresh := d.freshLayout(TablePair{Sessions: tmp, Runs: n.Runs + "__unused"})[0]
	cols := columnList("", sessionColumns)
	for _, q := range []string{
		fresh.sql,
		"INSERT INTO " + quoteIdent(tmp) + " (" + cols + ") SELECT " + cols + " FROM " + quoteIdent(n.Sessions),
		"DROP TABLE " + quoteIdent(n.Sessions),
		"ALTER TABLE " + quoteIdent(tmp) + " RENAME TO " + quoteIdent(n.Sessions),
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// earlierRun is a row of the earlier runs table, with what its session
// gives it.
type earlierRun struct {
	id, sessionID                            string
	agentID, teamID, workflowID, parentRunID sql.NullString
	status                                   sql.NullString
	data                                     []byte
	createdAt                                int64
	updatedAt                                sql.NullInt64
	sessionType                              string
	sessionUser                              sql.NullString
	sessionAgent, sessionTeam, sessionWF     sql.NullString
	legacyRuns                               int64 // entries of the session's runs column
}

// rebuildRuns replaces the earlier runs table with agno 3.0's: run_id the
// primary key; run_type the session's type; run_index the runs' position
// in their session (ordered as the earlier layout listed them: created_at,
// then run_id), after the runs of its runs column where it has one; user_id the session's, as agno's own migration does; and
// run_data the whole run (built when it was NULL) with its run_id,
// session_id, created_at, uppercase status and component id (the run's, or
// else the session's). Runs are copied in batches of upgradeBatch, and
// progress is logged after each. It returns the runs table's indexes, for
// the caller to create.
func (d *database) rebuildRuns(ctx context.Context, tx *sql.Tx, n TablePair) ([]ddl, error) {
	tmp := n.Runs + "__agno"
	layout := d.runsLayout(TablePair{Sessions: n.Sessions, Runs: tmp})
	if _, err := tx.ExecContext(ctx, layout[0].sql); err != nil {
		return nil, err
	}
	var total int64
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+d.qualified(n.Runs)).Scan(&total); err != nil {
		return nil, err
	}
	ph := d.placeholder
	j := jsonSQL{postgres: d.dialect == DialectPostgres}
	legacyLen := j.arrayLength(j.value("s."+legacyRunsColumn, ""))
	read := `SELECT r.run_id, r.session_id, r.agent_id, r.team_id, r.workflow_id, r.parent_run_id, r.status, r.run_data, r.created_at, r.updated_at,
  s.session_type, s.user_id, s.agent_id, s.team_id, s.workflow_id, ` + legacyLen + `
FROM ` + d.qualified(n.Runs) + ` AS r JOIN ` + d.qualified(n.Sessions) + ` AS s ON s.session_id = r.session_id
WHERE (r.session_id, r.created_at, r.run_id) > (` + ph(1) + `, ` + ph(2) + `, ` + ph(3) + `)
ORDER BY r.session_id, r.created_at, r.run_id LIMIT ` + fmt.Sprint(upgradeBatch)
	var (
		lastSession, lastRun string
		lastAt               int64 = -1 << 62
		index                int64
		done                 int64
	)
	for {
		rows, err := tx.QueryContext(ctx, read, lastSession, lastAt, lastRun)
		if err != nil {
			return nil, fmt.Errorf("read runs: %w", err)
		}
		batch := make([]earlierRun, 0, upgradeBatch)
		for rows.Next() {
			var r earlierRun
			if err := rows.Scan(&r.id, &r.sessionID, &r.agentID, &r.teamID, &r.workflowID, &r.parentRunID, &r.status, &r.data,
				&r.createdAt, &r.updatedAt, &r.sessionType, &r.sessionUser, &r.sessionAgent, &r.sessionTeam, &r.sessionWF, &r.legacyRuns); err != nil {
				rows.Close()
				return nil, err
			}
			batch = append(batch, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if len(batch) == 0 {
			break
		}
		values := make([][]any, 0, len(batch))
		for _, r := range batch {
			if r.sessionID != lastSession {
				// After the session's legacy runs, as agno 3.0 numbers them.
				index = r.legacyRuns
			}
			row, err := agnoRunRow(r, index)
			if err != nil {
				return nil, fmt.Errorf("run %q: %w", r.id, err)
			}
			values = append(values, row)
			index++
			lastSession, lastAt, lastRun = r.sessionID, r.createdAt, r.id
		}
		if err := d.insertRows(ctx, tx, d.qualified(tmp), runColumns, values); err != nil {
			return nil, err
		}
		done += int64(len(batch))
		d.logger.InfoContext(ctx, "converting runs", "database", d.id, "runs_table", d.describeTable(n.Runs), "done", done, "of", total)
	}
	for _, q := range []string{
		"DROP TABLE " + d.qualified(n.Runs),
		"ALTER TABLE " + d.qualified(tmp) + " RENAME TO " + quoteIdent(n.Runs),
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return nil, err
		}
	}
	if d.dialect == DialectPostgres {
		// The names PostgreSQL gives a table's unnamed keys, as in agno's.
		rows, err := tx.QueryContext(ctx, "SELECT conname, contype FROM pg_catalog.pg_constraint WHERE conrelid = to_regclass($1) AND contype IN ('p', 'f')", d.qualified(n.Runs))
		if err != nil {
			return nil, err
		}
		renames := map[string]string{}
		for rows.Next() {
			var name, typ string
			if err := rows.Scan(&name, &typ); err != nil {
				rows.Close()
				return nil, err
			}
			renames[name] = map[string]string{"p": n.Runs + "_pkey", "f": n.Runs + "_session_id_fkey"}[typ]
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
		for from, to := range renames {
			if from == to || len(to) > maxIdentLen {
				continue
			}
			if _, err := tx.ExecContext(ctx, "ALTER TABLE "+d.qualified(n.Runs)+" RENAME CONSTRAINT "+quoteIdent(from)+" TO "+quoteIdent(to)); err != nil {
				return nil, err
			}
		}
	}
	return d.runsLayout(n)[1:], nil
}

// agnoRunRow is an earlier run as agno 3.0's runs table holds it, in
// runColumns' order.
func agnoRunRow(r earlierRun, index int64) ([]any, error) {
	data := decodeObject(r.data)
	if data == nil {
		data = make(map[string]any)
	}
	data = maps.Clone(data)
	component := func(own, session sql.NullString, kind string) *string {
		if own.Valid {
			return &own.String
		}
		if r.sessionType == kind && session.Valid {
			return &session.String
		}
		return nil
	}
	agent := component(r.agentID, r.sessionAgent, "agent")
	team := component(r.teamID, r.sessionTeam, "team")
	workflow := component(r.workflowID, r.sessionWF, "workflow")
	for key, v := range map[string]*string{"agent_id": agent, "team_id": team, "workflow_id": workflow} {
		if _, ok := data[key]; !ok && v != nil {
			data[key] = *v
		}
	}
	if _, ok := data["parent_run_id"]; !ok && r.parentRunID.Valid {
		data["parent_run_id"] = r.parentRunID.String
	}
	var status *string
	if r.status.Valid {
		upper := strings.ToUpper(r.status.String)
		status = &upper
		data["status"] = upper
	}
	data["run_id"], data["session_id"], data["created_at"] = r.id, r.sessionID, r.createdAt
	encoded, err := json.Marshal(data)
	if err != nil {
		return nil, err
	}
	var user *string
	if r.sessionUser.Valid {
		user = &r.sessionUser.String
	}
	var updated any
	if r.updatedAt.Valid {
		updated = r.updatedAt.Int64
	}
	return []any{r.id, r.sessionID, r.sessionType, agent, team, workflow, user, nullString(r.parentRunID), status, index,
		string(encoded), r.createdAt, updated}, nil
}

func nullString(s sql.NullString) any {
	if s.Valid {
		return s.String
	}
	return nil
}

// insertRows inserts rows into table in statements of up to 1,000 rows,
// within both dialects' bind-parameter limits.
func (d *database) insertRows(ctx context.Context, tx *sql.Tx, table string, cols []string, rows [][]any) error {
	for start := 0; start < len(rows); start += 1000 {
		chunk := rows[start:min(start+1000, len(rows))]
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
		args := make([]any, 0, len(chunk)*len(cols))
		for i, row := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(")
			for j := range cols {
				if j > 0 {
					b.WriteString(", ")
				}
				p := d.placeholder(len(args) + 1)
				if d.dialect == DialectPostgres && cols[j] == "run_data" {
					p += "::jsonb"
				}
				b.WriteString(p)
				args = append(args, row[j])
			}
			b.WriteString(")")
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}
