package sqlitestore

import (
	"database/sql"
	"encoding/json"
	"fmt"
)

// encodeList stores a list of refs as a JSON array, so that the sqlite3
// shell shows it plainly and json_each can query it.
func encodeList(xs []string) string {
	if len(xs) == 0 {
		return "[]"
	}
	b, err := json.Marshal(xs)
	if err != nil {
		panic(fmt.Sprintf("persistence: encode list: %v", err))
	}
	return string(b)
}

func decodeList(s string) ([]string, error) {
	if s == "" || s == "[]" {
		return nil, nil
	}
	var xs []string
	if err := json.Unmarshal([]byte(s), &xs); err != nil {
		return nil, fmt.Errorf("list %q: %w", s, err)
	}
	return xs, nil
}

// encodeTimes and decodeTimes store a list of Unix-nanosecond times as a
// JSON array.
func encodeTimes(ts []int64) string {
	if len(ts) == 0 {
		return "[]"
	}
	b, err := json.Marshal(ts)
	if err != nil {
		panic(fmt.Sprintf("persistence: encode times: %v", err))
	}
	return string(b)
}

func decodeTimes(s string) ([]int64, error) {
	if s == "" || s == "[]" {
		return nil, nil
	}
	var ts []int64
	if err := json.Unmarshal([]byte(s), &ts); err != nil {
		return nil, fmt.Errorf("times %q: %w", s, err)
	}
	return ts, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func fromNull(ns sql.NullString) string {
	if ns.Valid {
		return ns.String
	}
	return ""
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
