// Added to FerretDB 1.24.2 by convoflow (infra/ferretdb-pushdown/README.md): the "odd rows" index
// beside each index that the ordered top-N pushdown (../topn.go) can use.

package metadata

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/FerretDB/FerretDB/internal/util/fsql"
	"github.com/FerretDB/FerretDB/internal/util/lazyerrors"
)

// plainField is a top-level field name that can be written inside SQL and JSON path literals as is.
var plainField = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// TopNEligible reports whether the index can serve ordered top-N queries: not unique, at least two keys,
// every key a plain top-level field, and the last key `_id` (so the order it gives is total).
func TopNEligible(index IndexInfo) bool {
	if index.Unique || len(index.Key) < 2 || index.Key[len(index.Key)-1].Field != "_id" {
		return false
	}

	for _, k := range index.Key {
		if !plainField.MatchString(k.Field) {
			return false
		}
	}

	return true
}

// FieldExpr is the SQL expression FerretDB indexes for a top-level field (see indexesCreate):
// the field's JSON text, NULL when the field is missing.
func FieldExpr(field string) string {
	return fmt.Sprintf("%s->%q", DefaultColumn, field)
}

// plainValue holds when the field's value sorts in SQLite's text order of FieldExpr exactly as
// FerretDB orders it: missing (SQL NULL, lowest in both), a bool (`false`, `true` above every string
// in both), or a string of type string (not an ObjectId, whose JSON text is also a string) whose JSON
// text is `"` + the string + `"`, none of its characters escaped and none below `#` (so that the
// closing quote sorts below every character that may follow a common prefix). JSON null is not plain:
// its text sorts between `false` and `true`, FerretDB sorts it lowest.
func plainValue(field string) string {
	e := FieldExpr(field)

	return fmt.Sprintf(
		`(%[1]s IS NULL OR %[1]s IN ('true', 'false') OR `+
			`(json_extract(%[2]s, '$."$s".p."%[3]s".t') IS 'string' AND %[1]s NOT GLOB '*[\ !<>&`+"\u2028\u2029"+`]*'))`,
		e, DefaultColumn, field,
	)
}

// OddCondition is true for a row where some key of the index holds a value that is not plain:
// arrays, numbers, dates, ObjectIds, objects, JSON null, strings with escaped characters, and so on.
// Such rows are read from the odd index, never from the ordered scan.
func OddCondition(index IndexInfo) string {
	terms := make([]string, len(index.Key))
	for i, k := range index.Key {
		terms[i] = plainValue(k.Field)
	}

	return "NOT (" + strings.Join(terms, " AND ") + ")"
}

// OddIndexName is the SQLite name of the partial index that holds the index's odd rows.
func OddIndexName(tableName, indexName string) string {
	return tableName + "_" + indexName + "__odd"
}

// createOddIndex creates the partial index of the index's odd rows, if the index is eligible.
// In the data it is written for it is empty, so it costs writes one condition per row and no space.
func createOddIndex(ctx context.Context, db *fsql.DB, tableName string, index IndexInfo) error {
	if !TopNEligible(index) {
		return nil
	}

	q := fmt.Sprintf(
		`CREATE INDEX IF NOT EXISTS %q ON %q (%s) WHERE %s`,
		OddIndexName(tableName, index.Name), tableName, FieldExpr(index.Key[0].Field), OddCondition(index),
	)
	if _, err := db.ExecContext(ctx, q); err != nil {
		return lazyerrors.Error(err)
	}

	return nil
}
