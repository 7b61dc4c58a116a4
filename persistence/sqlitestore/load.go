package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/ocapgo/kernel-actors/persistence"
)

// Load reads every table into t (Backend.Load), through codecs.
//
// A row that cannot be loaded into its Go type (a value of the wrong
// type, a negative count or sequence number, a list column that is not a
// JSON list of strings, a counter in meta that is not a number) fails the
// load with ErrCorrupt, naming the file, the table, the row's key and the
// column: the kernel must not start on a state it cannot read, and a row
// silently skipped would be lost. A row that loads but does not make
// sense (a kref that does not parse, an unknown state or kind, a config
// that is not JSON) is the auditor's business (kernel.Audit), since only
// the kernel knows what the values mean.
func (b *sqliteBackend) Load(ctx context.Context, t *persistence.Tables) error {
	conn := b.conn
	// One read transaction: every table from the same snapshot, even
	// while a kernel writes the file (a read-only open beside it).
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return fmt.Errorf("persistence: load: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	if b.sources == nil {
		b.sources = make(map[string]any)
	}
	for _, c := range codecs {
		if !b.opts.ReadOnly {
			paged, err := c.page(ctx, b, t)
			if err != nil {
				return err
			}
			if paged {
				continue
			}
		}
		rows, err := conn.QueryContext(ctx, c.selectSQL())
		if err != nil {
			return fmt.Errorf("persistence: load %s: %w", c.name(), err)
		}
		for rows.Next() {
			if err := c.load(t, rows.Scan); err != nil {
				key := rowKey(rows, c.keyCount())
				rows.Close()
				return fmt.Errorf("%w: %s: table %s, row %s: %v", persistence.ErrCorrupt, b.describe(), c.name(), key, err)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("persistence: load %s: %w", c.name(), err)
		}
	}
	if t.CList.Paged() {
		src, ok := b.sources["clist_by_vref"].(*vrefSource)
		if !ok {
			var err error
			if src, err = newVRefSource(ctx, b); err != nil {
				return err
			}
			b.sources["clist_by_vref"] = src
		}
		t.ByVRef.Page(src, b.opts.CacheRows)
		// The by-vref entries of promises stay in memory: nearly every
		// crank asks whether a vat already named the promise vref (p+N)
		// it sends, and the answer is nearly always no. They are few (a
		// promise leaves the c-lists once it is settled and heard of),
		// and they are listed on clist_by_kref (see
		// persistence.PromiseVRefKey).
		err := t.ByVRef.SetResident(persistence.PromiseVRefKey,
			func(add func(persistence.VRefKey, string)) error {
				rows, err := conn.QueryContext(ctx, "SELECT vat_id, vref, kref FROM clist WHERE kref >= 'kp' AND kref < 'kq'")
				if err != nil {
					return b.readErr("clist", err)
				}
				defer rows.Close()
				for rows.Next() {
					var k persistence.VRefKey
					var kref string
					if err := rows.Scan(&k.Vat, &k.VRef, &kref); err != nil {
						return b.readErr("clist", err)
					}
					add(k, kref)
				}
				if err := rows.Err(); err != nil {
					return b.readErr("clist", err)
				}
				return nil
			})
		if err != nil {
			return fmt.Errorf("persistence: load the promises of the c-list: %w", err)
		}
	}
	return nil
}

// checkFailures names the rows behind quick_check's "CHECK constraint
// failed in T" lines, which name only the table: for each such table it
// reads the CHECK clauses from the table's own CREATE statement (so a
// later migration's CHECKs are covered too) and lists the keys of up to
// three rows that break each. It returns "" when it finds nothing more.
func (b *sqliteBackend) checkFailures(ctx context.Context, problems []string) string {
	var parts []string
	seen := map[string]bool{}
	for _, line := range problems {
		table, ok := strings.CutPrefix(line, "CHECK constraint failed in ")
		if !ok || seen[table] {
			continue
		}
		seen[table] = true
		var create string
		if err := b.conn.QueryRowContext(ctx, "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?", table).Scan(&create); err != nil {
			continue
		}
		keys, err := b.keyColumns(ctx, table)
		if err != nil || len(keys) == 0 {
			continue
		}
		for _, check := range checkClauses(create) {
			q := fmt.Sprintf(`SELECT %s FROM "%s" WHERE NOT (%s) LIMIT 3`, strings.Join(keys, ", "), table, check)
			rows, err := b.conn.QueryContext(ctx, q)
			if err != nil {
				continue
			}
			for rows.Next() {
				parts = append(parts, fmt.Sprintf("table %s, row %s breaks CHECK (%s)", table, rowKey(rows, len(keys)), check))
			}
			rows.Close()
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

// keyColumns lists a table's primary-key columns, in key order.
func (b *sqliteBackend) keyColumns(ctx context.Context, table string) ([]string, error) {
	rows, err := b.conn.QueryContext(ctx, "SELECT name, pk FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var name string
		var pk int
		if err := rows.Scan(&name, &pk); err != nil {
			return nil, err
		}
		cols = append(cols, `"`+name+`"`)
	}
	return cols, rows.Err()
}

// checkClauses extracts the expressions of the CHECK clauses of a CREATE
// TABLE statement, matching parentheses (the schema's CHECKs hold no
// string with a parenthesis in it).
func checkClauses(create string) []string {
	var out []string
	rest := create
	for {
		i := strings.Index(rest, "CHECK (")
		if i < 0 {
			return out
		}
		rest = rest[i+len("CHECK ("):]
		depth, end := 1, -1
		for j := 0; j < len(rest) && end < 0; j++ {
			switch rest[j] {
			case '(':
				depth++
			case ')':
				if depth--; depth == 0 {
					end = j
				}
			}
		}
		if end < 0 {
			return out
		}
		out = append(out, strings.TrimSpace(rest[:end]))
		rest = rest[end+1:]
	}
}

// count checks that a count or sequence number read from column col is
// not negative: stored as SQLite's signed integer, it is unsigned in Go,
// and a negative one would turn into a huge number.
func count(col string, v int64) (uint64, error) {
	if v < 0 {
		return 0, fmt.Errorf("column %s: %d is negative", col, v)
	}
	return uint64(v), nil
}

// rowKey describes the key of the row rows is on, from its first n
// columns, for an error about the row: `kpid "kp3", seq 2`. Scanning the
// row again into untyped values cannot fail on a value's type.
func rowKey(rows *sql.Rows, n int) string {
	cols, err := rows.Columns()
	if err != nil || n > len(cols) {
		return "(key unknown)"
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return "(key unknown)"
	}
	parts := make([]string, n)
	for i := range parts {
		switch v := vals[i].(type) {
		case string:
			parts[i] = fmt.Sprintf("%s %q", cols[i], v)
		case []byte:
			parts[i] = fmt.Sprintf("%s %q", cols[i], v)
		default:
			parts[i] = fmt.Sprintf("%s %v", cols[i], v)
		}
	}
	return strings.Join(parts, ", ")
}
