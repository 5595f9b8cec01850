// Added to FerretDB 1.24.2 by convoflow (dev/ferretdb-pushdown/README.md): ordered top-N pushdown.

package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/FerretDB/FerretDB/internal/backends"
	"github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata"
	"github.com/FerretDB/FerretDB/internal/handler/sjson"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/fsql"
	"github.com/FerretDB/FerretDB/internal/util/iterator"
	"github.com/FerretDB/FerretDB/internal/util/lazyerrors"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// queryTopN answers a query with a sort and a limit from an index, when one serves it.
//
// It returns a superset of the first params.TopN documents that match the filter in the sort order, in no
// particular order; the handler then filters, sorts, skips and limits them exactly as it does every
// query's documents. With the index (eq_1..eq_j, s_1[, _id]) whose first keys are top-level equalities of
// the filter with a string or bool and whose other keys are the sort (all in the index's direction or all
// reversed), the documents are the union of:
//
//   - odd: every row with a key of any eligible index that is not plain (metadata.TableOddCondition:
//     arrays, null, numbers, dates, ObjectIds, objects, strings with escaped characters...), from the
//     table's partial odd index;
//   - rows with the equalities whose s_1 is missing or a bool, from the index;
//   - ordered: the other rows with the equalities (their s_1 is then a plain string), read in the index's
//     order until TopN of them match the whole filter (params.Match: the handler's own filter).
//
// A matching row is odd, or has the equalities (a plain key equals a string or bool exactly when their
// JSON texts are equal, and an array key makes the row odd). If it is in the ordered set, where SQLite's
// order and FerretDB's coincide (plain values; _id unique), and the scan stopped before it, then TopN
// matching rows come before it, so it is not among the first TopN. Hence the union holds them all.
//
// ok is false when no index serves the query; the caller then reads the collection as before.
func (c *collection) queryTopN(ctx context.Context, db *fsql.DB, meta *metadata.Collection, params *backends.QueryParams) (*backends.QueryResult, bool, error) { //nolint:lll // for readability
	if params.OnlyRecordIDs {
		return nil, false, nil
	}

	plan, err := planTopN(ctx, db, meta, params.Filter, params.TopSort, params.TopN)
	if plan == nil || err != nil {
		return nil, false, err
	}

	// One read transaction: every query sees the same snapshot (WAL; a deferred BEGIN takes no write
	// lock), so every odd row the ordered scan meets was read by the odd query and is skipped there.
	r := topNReader{ctx: ctx, seen: map[string]struct{}{}}
	err = db.InTransaction(ctx, func(tx *fsql.Tx) error {
		r.tx = tx
		for _, q := range plan.all {
			if err := r.readAll(q.sql, q.args...); err != nil {
				return err
			}
		}

		return r.readMatching(plan.ordered.sql, params.TopN, params.Match, plan.ordered.args...)
	})
	if err != nil {
		return nil, false, lazyerrors.Error(err)
	}

	return &backends.QueryResult{Iter: iterator.Values(iterator.ForSlice(r.docs))}, true, nil
}

// explainTopN answers explain for a query queryTopN serves: SQLite's plan of each of its queries, the
// ordered scan's last.
func (c *collection) explainTopN(ctx context.Context, db *fsql.DB, meta *metadata.Collection, params *backends.ExplainParams) (*backends.ExplainResult, bool, error) { //nolint:lll // for readability
	plan, err := planTopN(ctx, db, meta, params.Filter, params.TopSort, params.TopN)
	if plan == nil || err != nil {
		return nil, false, err
	}

	lines := must.NotFail(types.NewArray())
	for _, q := range append(plan.all, plan.ordered) {
		rows, err := db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q.sql, q.args...)
		if err != nil {
			return nil, false, lazyerrors.Error(err)
		}

		for rows.Next() {
			var id, parent, notused int32
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				rows.Close()
				return nil, false, lazyerrors.Error(err)
			}
			lines.Append(detail)
		}

		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, false, lazyerrors.Error(err)
		}
	}

	return &backends.ExplainResult{
		QueryPlanner:   must.NotFail(types.NewDocument("Plan", lines)),
		FilterPushdown: true,
		SortPushdown:   true,
		LimitPushdown:  true,
	}, true, nil
}

type topNQuery struct {
	sql  string
	args []any
}

// topNPlan holds the queries whose rows are all read (odd rows, a missing or bool first sort key), and
// the ordered scan, read until TopN rows match.
type topNPlan struct {
	all     []topNQuery
	ordered topNQuery
}

// planTopN returns nil when no index serves the query.
func planTopN(ctx context.Context, db *fsql.DB, meta *metadata.Collection, filter, topSort *types.Document, topN int64) (*topNPlan, error) { //nolint:lll // for readability
	if topN <= 0 || filter == nil || meta.Capped() {
		return nil, nil
	}

	sortKeys := topSort.Keys()
	if len(sortKeys) == 0 || len(sortKeys) > 2 || sortKeys[len(sortKeys)-1] != "_id" {
		return nil, nil
	}

	sortDesc := make([]bool, len(sortKeys))
	for i, k := range sortKeys {
		v, _ := topSort.Get(k)
		o, ok := v.(int64)
		if !ok {
			return nil, nil
		}
		sortDesc[i] = o < 0
	}

	index, prefix := chooseTopNIndex(meta, filter, sortKeys, sortDesc)
	if index == nil {
		return nil, nil
	}

	current, err := metadata.OddIndexCurrent(ctx, db, meta.TableName, meta.Settings.Indexes)
	if err != nil || !current {
		return nil, err // no odd index (yet), or one made for other indexes: nothing safe to read
	}

	// The table's odd rows: a superset of this index's (metadata.TableOddCondition).
	oddIndex := metadata.OddIndexName(meta.TableName)
	table := meta.TableName
	mainIndex := table + "_" + index.Name
	odd := metadata.TableOddCondition(meta.Settings.Indexes)
	s1 := metadata.FieldExpr(sortKeys[0])

	eq := make([]string, len(prefix))
	eqArgs := make([]any, len(prefix))
	for i, k := range prefix {
		eq[i] = metadata.FieldExpr(k) + " = ?"
		eqArgs[i] = string(must.NotFail(sjson.MarshalSingleValue(must.NotFail(filter.Get(k)))))
	}
	where := strings.Join(append(eq, "1"), " AND ")

	selectFrom := func(index string) string {
		return fmt.Sprintf(`SELECT %s FROM %q INDEXED BY %q WHERE `, metadata.DefaultColumn, table, index)
	}

	plan := &topNPlan{all: []topNQuery{
		{sql: selectFrom(oddIndex) + odd},
		{sql: selectFrom(mainIndex) + where + ` AND ` + s1 + ` IS NULL`, args: eqArgs},
		{sql: selectFrom(mainIndex) + where + ` AND ` + s1 + ` IN ('true', 'false')`, args: eqArgs},
	}}

	// The ordered set: a string first sort key, which the filter's bounds (plain strings, whose JSON text
	// starts with `"`) narrow further. SQLite uses one lower and one upper bound to delimit the index range,
	// so a string range end is written only where no bound replaces it. The odd rows were read above in
	// the same snapshot and a row is collected once, so an odd row met here is skipped before it is
	// counted. (A NOT odd here cost a parse of every row's JSON text in SQLite, six lookups each: a
	// quarter of FerretDB's time for an inbox page, to spare decoding the odd rows, of which there are
	// none in the project's data.)
	ordered := selectFrom(mainIndex) + where
	args := append([]any{}, eqArgs...)
	lower, upper := false, false

	for _, b := range topNBounds(filter, sortKeys[0]) {
		ordered += fmt.Sprintf(` AND %s %s ?`, s1, b.op)
		args = append(args, string(must.NotFail(sjson.MarshalSingleValue(b.value))))
		lower = lower || b.op != "<" && b.op != "<="
		upper = upper || b.op != ">" && b.op != ">="
	}

	if !lower {
		ordered += fmt.Sprintf(` AND %s >= '"'`, s1)
	}

	if !upper {
		ordered += fmt.Sprintf(` AND %s < '#'`, s1)
	}

	ordered += fmt.Sprintf(` ORDER BY %s %s`, s1, direction(sortDesc[0]))
	if len(sortKeys) == 2 {
		ordered += fmt.Sprintf(`, %s %s`, metadata.FieldExpr("_id"), direction(sortDesc[1]))
	}

	plan.ordered = topNQuery{sql: ordered, args: args}

	return plan, nil
}

func direction(desc bool) string {
	if desc {
		return "DESC"
	}

	return "ASC"
}

// chooseTopNIndex returns the eligible index with the longest prefix of filter equalities whose
// remaining keys are the sort, and that prefix.
func chooseTopNIndex(meta *metadata.Collection, filter *types.Document, sortKeys []string, sortDesc []bool) (*metadata.IndexInfo, []string) { //nolint:lll // for readability
	var best *metadata.IndexInfo
	var bestPrefix []string

	for i := range meta.Settings.Indexes {
		index := &meta.Settings.Indexes[i]
		if !metadata.TopNEligible(*index) || len(index.Key) < len(sortKeys) {
			continue
		}

		j := len(index.Key) - len(sortKeys)
		flip := index.Key[j].Descending != sortDesc[0]
		ok := true

		for s, k := range index.Key[j:] {
			ok = ok && k.Field == sortKeys[s] && (k.Descending != sortDesc[s]) == flip
		}

		prefix := make([]string, j)
		for p, k := range index.Key[:j] {
			v, _ := filter.Get(k.Field)
			switch v.(type) {
			case string, bool:
			default:
				ok = false
			}
			prefix[p] = k.Field
		}

		if ok && (best == nil || len(prefix) > len(bestPrefix)) {
			best, bestPrefix = index, prefix
		}
	}

	return best, bestPrefix
}

type topNBound struct {
	op    string
	value string
}

// topNBounds returns bounds on the first sort key that every matching row with a plain string there
// satisfies: the key's own $lt/$lte/$gt/$gte/equality with a plain string, and the loosest bound of a
// top-level $or whose every branch bounds the key on the same side (the keyset cursor of a next page).
func topNBounds(filter *types.Document, key string) []topNBound {
	var res []topNBound

	if v, err := filter.Get(key); err == nil {
		res = append(res, fieldBounds(v)...)
	}

	v, err := filter.Get("$or")
	branches, ok := v.(*types.Array)
	if err != nil || !ok || branches.Len() == 0 {
		return res
	}

	for _, side := range []string{"<", ">"} {
		var loosest string
		all := true

		for i := 0; i < branches.Len(); i++ {
			branch, _ := must.NotFail(branches.Get(i)).(*types.Document)
			var found *string

			if branch != nil {
				if bv, err := branch.Get(key); err == nil {
					for _, b := range fieldBounds(bv) {
						if b.op == "=" || strings.HasPrefix(b.op, side) {
							if found == nil || (side == "<") == (b.value > *found) {
								found = &b.value
							}
						}
					}
				}
			}

			if found == nil {
				all = false
				break
			}

			if i == 0 || (side == "<") == (*found > loosest) {
				loosest = *found
			}
		}

		if all {
			res = append(res, topNBound{op: side + "=", value: loosest})
		}
	}

	return res
}

// fieldBounds reads a field's condition: a plain string (equality) or an operator document.
func fieldBounds(v any) []topNBound {
	if s, ok := v.(string); ok {
		if plainString(s) {
			return []topNBound{{op: "=", value: s}}
		}

		return nil
	}

	d, ok := v.(*types.Document)
	if !ok {
		return nil
	}

	var res []topNBound
	for _, op := range [][2]string{{"$lt", "<"}, {"$lte", "<="}, {"$gt", ">"}, {"$gte", ">="}} {
		if ov, err := d.Get(op[0]); err == nil {
			if s, ok := ov.(string); ok && plainString(s) {
				res = append(res, topNBound{op: op[1], value: s})
			}
		}
	}

	return res
}

// plainString holds for a string whose JSON text is `"` + the string + `"` and sorts as the string does
// (the Go side of metadata.plainValue).
func plainString(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}

	for _, r := range s {
		if r < '#' || r == '\\' || r == '<' || r == '>' || r == '&' || r == '\u2028' || r == '\u2029' {
			return false
		}
	}

	return true
}

// topNReader runs the queries and collects each document once (by its _id's JSON text, which the
// unique _id index keeps unique).
type topNReader struct {
	ctx  context.Context
	tx   *fsql.Tx
	seen map[string]struct{}
	docs []*types.Document
}

func (r *topNReader) readAll(q string, args ...any) error {
	return r.readMatching(q, 0, nil, args...)
}

// readMatching collects the query's rows until limit of them match (all of them when limit is 0).
func (r *topNReader) readMatching(q string, limit int64, match func(*types.Document) (bool, error), args ...any) error {
	rows, err := r.tx.QueryContext(r.ctx, q, args...)
	if err != nil {
		return lazyerrors.Error(err)
	}

	iter := newQueryIterator(r.ctx, rows, false)
	defer iter.Close()

	var matched int64

	for limit == 0 || matched < limit {
		_, doc, err := iter.Next()
		if errors.Is(err, iterator.ErrIteratorDone) {
			return nil
		}
		if err != nil {
			return lazyerrors.Error(err)
		}

		key := string(must.NotFail(sjson.MarshalSingleValue(must.NotFail(doc.Get("_id")))))
		if _, dup := r.seen[key]; dup {
			continue
		}

		r.seen[key] = struct{}{}
		r.docs = append(r.docs, doc)

		if match != nil {
			ok, err := match(doc)
			if err != nil {
				return lazyerrors.Error(err)
			}
			if ok {
				matched++
			}
		}
	}

	return nil
}
