package persistence

import (
	"fmt"
	"strconv"
	"strings"
)

// StatementOp is the kind of a flush statement.
type StatementOp string

// Flush statement kinds.
const (
	OpDelete StatementOp = "delete"
	OpUpsert StatementOp = "upsert"
	OpInsert StatementOp = "insert"
)

// Statement describes one statement of a SQLite flush, as Options.Trace
// sees it: Rows rows of len(Cols) values each (key columns only for a
// delete). The SQLite backend builds its statements from it, so SQL is
// exactly what it ran.
type Statement struct {
	Op    StatementOp
	Table string
	Cols  []string
	Rows  int
	Args  []any
}

// SQL is the statement's text.
func (s Statement) SQL() string {
	switch s.Op {
	case OpDelete:
		if len(s.Cols) == 1 {
			return fmt.Sprintf("DELETE FROM %s WHERE %s IN (%s)", s.Table, s.Cols[0], strings.TrimSuffix(strings.Repeat("?,", s.Rows), ","))
		}
		// The VALUES list goes inside a SELECT: SQLite plans
		// "(a, b) IN (VALUES ...)" as a scan of the whole table per
		// statement, but "(a, b) IN (SELECT ... FROM (VALUES ...))" as one
		// primary-key search per row.
		return fmt.Sprintf("DELETE FROM %s WHERE (%s) IN (SELECT %s FROM (VALUES %s))",
			s.Table, strings.Join(s.Cols, ", "), valueCols(len(s.Cols)), placeholders(s.Rows, len(s.Cols)))
	case OpUpsert:
		return fmt.Sprintf("INSERT OR REPLACE INTO %s (%s) VALUES %s", s.Table, strings.Join(s.Cols, ", "), placeholders(s.Rows, len(s.Cols)))
	}
	return fmt.Sprintf("INSERT INTO %s (%s) VALUES %s", s.Table, strings.Join(s.Cols, ", "), placeholders(s.Rows, len(s.Cols)))
}

// valueCols names the n columns of a VALUES list: column1, column2, ...
func valueCols(n int) string {
	cols := make([]string, n)
	for i := range cols {
		cols[i] = "column" + strconv.Itoa(i+1)
	}
	return strings.Join(cols, ", ")
}

// placeholders returns "(?,?,?),(?,?,?)" for rows rows of width columns.
func placeholders(rows, width int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", width), ",") + ")"
	return strings.TrimSuffix(strings.Repeat(one+",", rows), ",")
}
