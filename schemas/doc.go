// Package schemas owns column types and the per-table schema registry: which
// attribute path maps to which column, of what type, first seen when, and
// the rules of evolution (columns are appended, never renamed or retyped).
// It also generates the Athena DDL of a schema, and the parts every
// catalog definition shares (TableDefinition, StateTableDefinition), from
// which its subpackages build theirs: gluedef (Glue tables, no AWS SDK),
// cfn (CloudFormation) and firehosedef (Firehose delivery streams), the
// last two for the CLI only. This package imports no AWS SDK.
//
// Example:
//
//	s := schemas.NewSchema("chat_messages")
//	col, _ := s.Add(schemas.Column{Name: "room_id", Path: "roomId", Type: schemas.String, Source: "S"})
//	_ = col.Name // "room_id"; a later "room_id" path would get "room_id_2"
package schemas
