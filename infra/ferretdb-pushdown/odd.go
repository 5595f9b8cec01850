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

// unsafe is the GLOB class of the characters whose presence in a JSON text means the string may be
// escaped, or may sort unlike its JSON text: a space and `!` sort below the closing quote, `\` starts an
// escape, and encoding/json escapes `<`, `>`, `&`, U+2028 and U+2029.
const unsafe = `[\ !<>&` + "\u2028\u2029" + `]`

// plainSortValue holds when the field's value sorts in SQLite's text order of FieldExpr exactly as
// FerretDB orders it: missing (SQL NULL, lowest in both), a bool (`false`, `true` above every string in
// both), or a string of type string (not an ObjectId, whose JSON text is also a string) whose JSON text
// is `"` + the string + `"` unescaped, with no character below `#` (so that the closing quote sorts below
// every character that may follow a common prefix). JSON null is not: its text sorts between `false` and
// `true`, FerretDB sorts it lowest. The common case (a string) is tested first.
func plainSortValue(field string) string {
	return fmt.Sprintf(
		`((json_extract(%[2]s, '$."$s".p."%[3]s".t') IS 'string' AND %[1]s NOT GLOB '*%[4]s*') OR %[1]s IS NULL OR %[1]s IN ('true', 'false'))`,
		FieldExpr(field), DefaultColumn, field, unsafe,
	)
}

// plainEqualityValue holds when the field's value equals a string or a bool in FerretDB's sense exactly
// when its JSON text equals the JSON text encoding/json gives that string or bool: anything but an array
// (which equals a value when an element does) and a string that may be escaped.
func plainEqualityValue(field string) string {
	return fmt.Sprintf(`(%[1]s IS NULL OR NOT (%[1]s GLOB '[[]*' OR %[1]s GLOB '*%[2]s*'))`, FieldExpr(field), unsafe)
}

// OddCondition is true for a row where a key of the index holds a value that is not plain: for the last
// two keys (the sort: an eligible index serves sorts on its last one or two keys only) by plainSortValue,
// for the others (the equalities) by plainEqualityValue. Such rows are read from the odd index, never
// from the ordered scan.
func OddCondition(index IndexInfo) string {
	terms := make([]string, len(index.Key))
	for i, k := range index.Key {
		if i < len(index.Key)-2 {
			terms[i] = plainEqualityValue(k.Field)
		} else {
			terms[i] = plainSortValue(k.Field)
		}
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
