// Package flatten turns one DynamoDB item into one flat row of typed
// columns. It owns the attribute value model (Value, Attr) and its
// DynamoDB JSON reader and writer, column naming (camelCase to
// snake_case, collisions, hashes for names that sanitize to nothing), type
// inference for new columns (bigint, decimal(38,s) or string for N; arrays
// for sets and homogeneous lists; JSON for mixed lists and deep maps), the
// omit, mask, expand and explode rules of a table's configuration, and
// _extra: every value without a typed column is kept there, in DynamoDB
// JSON, so nothing is lost.
//
// Items come two ways: as attributes ([]Attr, a tree of Values, read by
// ParseItem; Batch.Add), or as an Item, a flat list of nodes a decoder
// builds straight from its input with an ItemBuilder (Batch.AddItem,
// which builds Values only for what lands whole in one column or in
// _extra). Both give the same rows.
//
// Example:
//
//	f, _ := flatten.New(flatten.TableConfig{Omit: []string{"debug"}})
//	b := f.NewBatch()
//	item, _ := flatten.ParseItemBytes([]byte(`{"roomId":{"S":"r1"},"n":{"N":"3"}}`))
//	b.Add(flatten.Meta{EventName: "INSERT", EventTime: 1775001600000}, item)
//	schema := schemas.NewSchema("chat_messages")
//	for _, c := range b.Propose(schema) {
//		schema.Add(c)
//	}
//	rows, _ := b.Rows(nil, schema) // one row: room_id "r1", n 3 (bigint)
package flatten
