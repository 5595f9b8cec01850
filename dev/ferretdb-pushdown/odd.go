// Added to FerretDB 1.24.2 by convoflow (dev/ferretdb-pushdown/README.md): the "odd rows" partial index
// of a table whose indexes the ordered top-N pushdown (../topn.go) can use.

package metadata

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"regexp"
	"sort"
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

// TableOddCondition is true for a row that is odd for at least one eligible index of the table (the rows
// the ordered scans cannot serve, read from the table's odd index instead). A row is plain (not odd) when,
// for the fields of all eligible indexes:
//
//   - no field's JSON text (FieldExpr; missing is empty) starts with `[` (an array equals a value when an
//     element does) or holds a character of unsafe (a string that may be escaped, or that may sort unlike
//     its JSON text: a space and `!` sort below the closing quote); the texts are joined with `#` and `#[`
//     turned into a space, so one GLOB tells both (a value holding `#[` is odd too, which only adds rows);
//   - each field that is one of the last two keys of an eligible index (the sort: an eligible index
//     serves sorts on its last one or two keys only) is missing, a bool or of type string by the document's
//     schema: not an ObjectId, date-as-string, binData or regex, whose JSON texts are strings too; JSON null
//     is odd (its text sorts between `false` and `true`, FerretDB sorts it lowest).
//
// So a plain row's equality keys equal a string or bool in FerretDB's sense exactly when their JSON texts
// are equal, and its sort keys order in SQLite's text order of FieldExpr as FerretDB orders them: missing
// (SQL NULL) lowest in both, bools (`false` < `true`) above every string in both, and a string's text is
// `"` + the string + `"`, unescaped, with every character above `"`. The condition is the same for every
// index of the table and evaluates each field once per write; it is "" when no index is eligible, and its
// text depends only on the set of eligible indexes (fields in name order).
func TableOddCondition(indexes []IndexInfo) string {
	sortField := map[string]bool{}
	for _, index := range indexes {
		if !TopNEligible(index) {
			continue
		}

		for i, k := range index.Key {
			sortField[k.Field] = sortField[k.Field] || i >= len(index.Key)-2
		}
	}

	if len(sortField) == 0 {
		return ""
	}

	fields := make([]string, 0, len(sortField))
	for f := range sortField {
		fields = append(fields, f)
	}

	sort.Strings(fields)

	texts := make([]string, len(fields))
	for i, f := range fields {
		texts[i] = fmt.Sprintf(`'#' || coalesce(%s, '')`, FieldExpr(f))
	}

	terms := []string{fmt.Sprintf(`replace(%s, '#[', ' ') NOT GLOB '*%s*'`, strings.Join(texts, " || "), unsafe)}

	for _, f := range fields {
		if sortField[f] {
			terms = append(terms, fmt.Sprintf(
				`coalesce(json_extract(%s, '$."$s".p."%s".t'), 'string') IN ('string', 'bool')`, DefaultColumn, f,
			))
		}
	}

	return "NOT (" + strings.Join(terms, " AND ") + ")"
}

// OddIndexName is the SQLite name of the table's one partial index of odd rows.
func OddIndexName(tableName string) string {
	return tableName + "__convoflow_odd"
}

// OddIndexCurrent reports whether the table's odd index exists with the condition that the given indexes
// ask for (a missing or outdated one, e.g. in a database written before this version, is not used).
func OddIndexCurrent(ctx context.Context, db *fsql.DB, tableName string, indexes []IndexInfo) (bool, error) {
	cond := TableOddCondition(indexes)
	if cond == "" {
		return false, nil
	}

	var sql string
	err := db.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?`, OddIndexName(tableName)).Scan(&sql)
	if errors.Is(err, stdsql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, lazyerrors.Error(err)
	}

	return strings.HasSuffix(sql, " WHERE "+cond), nil
}

// syncOddIndex makes the table's odd index match its eligible indexes: called after indexes are created
// (also when they all existed already, as on every start of an application that ensures its indexes, so a
// database written before this version gets its odd index then) or dropped. Rebuilding it reads the table
// once; when it is current this is one sqlite_master lookup. In the data it is written for it is empty, so
// it costs each write one evaluation of its condition and no space.
func syncOddIndex(ctx context.Context, db *fsql.DB, c *Collection) error {
	current, err := OddIndexCurrent(ctx, db, c.TableName, c.Settings.Indexes)
	if err != nil || current {
		return err
	}

	// The previous version kept one odd index per eligible index, named <table>_<index>__odd.
	mains := map[string]bool{}
	for _, index := range c.Settings.Indexes {
		mains[c.TableName+"_"+index.Name] = true
	}

	qs := []string{fmt.Sprintf(`DROP INDEX IF EXISTS %q`, OddIndexName(c.TableName))}
	for _, index := range c.Settings.Indexes {
		if old := c.TableName + "_" + index.Name + "__odd"; !mains[old] {
			qs = append(qs, fmt.Sprintf(`DROP INDEX IF EXISTS %q`, old))
		}
	}

	if cond := TableOddCondition(c.Settings.Indexes); cond != "" {
		qs = append(qs, fmt.Sprintf(`CREATE INDEX %q ON %q (%s) WHERE %s`, OddIndexName(c.TableName), c.TableName, FieldExpr("_id"), cond))
	}

	for _, q := range qs {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return lazyerrors.Error(err)
		}
	}

	return nil
}
