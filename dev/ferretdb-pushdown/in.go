// Added to FerretDB 1.24.2 by convoflow (dev/ferretdb-pushdown/README.md, "Reads by _id"): an `_id` `$in` read from the _id index.

package sqlite

import (
	"fmt"
	"strings"

	"github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata"
	"github.com/FerretDB/FerretDB/internal/handler/sjson"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// maxIDsIn bounds the values of one pushed-down `$in` (SQLite allows 32,766 parameters a statement).
const maxIDsIn = 1000

// idInWhere gives the WHERE clause and its arguments for the condition of a filter that is exactly
// `{_id: {$in: [v1, v2, ...]}}` with 1 to maxIDsIn strings or ObjectIDs, or "" when the condition is
// anything else. As for `{_id: v}`, the row's _id JSON text (the indexed IDColumn) must equal one of the
// values' JSON texts, written by the same sjson.MarshalSingleValue that wrote the rows; the handler then
// filters what it gets with the whole filter, as it does every query's documents.
func idInWhere(cond any) (string, []any) {
	doc, ok := cond.(*types.Document)
	if !ok || doc.Len() != 1 {
		return "", nil
	}

	v, err := doc.Get("$in")
	if err != nil {
		return "", nil
	}

	values, ok := v.(*types.Array)
	if !ok || values.Len() == 0 || values.Len() > maxIDsIn {
		return "", nil
	}

	args := make([]any, 0, values.Len())

	for i := 0; i < values.Len(); i++ {
		value := must.NotFail(values.Get(i))
		switch value.(type) {
		case string, types.ObjectID:
			args = append(args, string(must.NotFail(sjson.MarshalSingleValue(value))))
		default:
			return "", nil
		}
	}

	return fmt.Sprintf(` WHERE %s IN (?%s)`, metadata.IDColumn, strings.Repeat(", ?", len(args)-1)), args
}
