// Package cfn renders the lake's Glue tables as a CloudFormation template
// (AWS::Glue::Table resources, and an AWS::Glue::Database on request).
// It is a package of its own, used by the CLI's ddl command, so that the
// Lambda function, which never writes templates, does not carry the
// CloudFormation resource library (goformation) in its binary and init.
//
//	yaml, err := cfn.YAML(tables, schemas.Options{Database: "lake"}, cfn.Options{})
package cfn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/awslabs/goformation/v7/cloudformation"
	cfnglue "github.com/awslabs/goformation/v7/cloudformation/glue"

	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/schemas/gluedef"
)

// Options shape the CloudFormation template.
type Options struct {
	// IncludeDatabase adds an AWS::Glue::Database resource for the
	// database, which every table then depends on. Leave it false when
	// the database exists already (or another stack owns it).
	IncludeDatabase bool
}

// DatabaseLogicalID returns the logical ID of the AWS::Glue::Database
// resource of db: its name in PascalCase followed by "Database".
func DatabaseLogicalID(db string) string { return pascal(db) + "Database" }

// TableLogicalID returns the logical ID of the AWS::Glue::Table resource
// of table: its name in PascalCase followed by "Table". Two tables whose
// names differ only in underscores may share one; Template
// then numbers the later one (Table2, Table3...).
func TableLogicalID(table string) string { return pascal(table) + "Table" }

// pascal turns snake_case into PascalCase: chat_messages -> ChatMessages.
func pascal(name string) string {
	var b strings.Builder
	up := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_':
			up = true
			continue
		case up && c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		up = false
		b.WriteByte(c)
	}
	return b.String()
}

// Template returns a CloudFormation template holding one
// AWS::Glue::Table per schema (the same definition as gluedef.LakeTable, in
// the catalog of the stack's account), and an AWS::Glue::Database when
// c.IncludeDatabase. Resources are named by TableLogicalID and
// DatabaseLogicalID. It fails like CreateTableDDL for any schema, and with
// ErrBadName when two schemas name one table.
func Template(tables []*schemas.Schema, o schemas.Options, c Options) (*cloudformation.Template, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	db := o.DatabaseName()
	t := cloudformation.NewTemplate()
	t.Description = "ddblake lake tables in Glue database " + db
	var dependsOn []string
	if c.IncludeDatabase {
		id := DatabaseLogicalID(db)
		t.Resources[id] = &cfnglue.Database{
			CatalogId: cloudformation.Ref("AWS::AccountId"),
			DatabaseInput: &cfnglue.Database_DatabaseInput{
				Name:        cloudformation.String(db),
				Description: cloudformation.String("ddblake data lake of DynamoDB change data"),
			},
		}
		dependsOn = []string{id}
	}
	seen := map[string]bool{}
	for _, s := range tables {
		if seen[s.Table] {
			return nil, &schemas.DefinitionError{Table: s.Table, Err: fmt.Errorf("%w: table given twice", schemas.ErrBadName)}
		}
		seen[s.Table] = true
		in, err := gluedef.LakeTable(s, o)
		if err != nil {
			return nil, err
		}
		id := TableLogicalID(s.Table)
		for n := 2; t.Resources[id] != nil; n++ {
			id = TableLogicalID(s.Table) + strconv.Itoa(n)
		}
		t.Resources[id] = &cfnglue.Table{
			CatalogId:                  cloudformation.Ref("AWS::AccountId"),
			DatabaseName:               db,
			TableInput:                 cfnTableInput(in),
			AWSCloudFormationDependsOn: dependsOn,
		}
	}
	return t, nil
}

func cfnTableInput(in *gluedef.TableInput) *cfnglue.Table_TableInput {
	sd := in.StorageDescriptor
	return &cfnglue.Table_TableInput{
		Name:          optional(in.Name),
		Description:   optional(in.Description),
		TableType:     optional(in.TableType),
		Parameters:    in.Parameters,
		PartitionKeys: cfnColumns(in.PartitionKeys),
		StorageDescriptor: &cfnglue.Table_StorageDescriptor{
			Columns:      cfnColumns(sd.Columns),
			Location:     optional(sd.Location),
			InputFormat:  optional(sd.InputFormat),
			OutputFormat: optional(sd.OutputFormat),
			SerdeInfo: &cfnglue.Table_SerdeInfo{
				SerializationLibrary: optional(sd.SerdeInfo.SerializationLibrary),
				Parameters:           sd.SerdeInfo.Parameters,
			},
		},
	}
}

func cfnColumns(cols []gluedef.Column) []cfnglue.Table_Column {
	out := make([]cfnglue.Table_Column, len(cols))
	for i, c := range cols {
		out[i] = cfnglue.Table_Column{Name: c.Name, Type: optional(c.Type), Comment: optional(c.Comment)}
	}
	return out
}

// optional is nil for "", as the definition leaves the field out.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// JSON renders Template as JSON (two-space
// indent, keys sorted, no HTML escaping).
func JSON(tables []*schemas.Schema, o schemas.Options, c Options) ([]byte, error) {
	t, err := Template(tables, o, c)
	if err != nil {
		return nil, err
	}
	raw, err := t.JSON()
	if err != nil {
		return nil, fmt.Errorf("cfn: render CloudFormation JSON: %w", err)
	}
	// Re-encode without the \u003c escapes encoding/json puts in
	// array<string>.
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("cfn: render CloudFormation JSON: %w", err)
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("cfn: render CloudFormation JSON: %w", err)
	}
	return out.Bytes(), nil
}

// YAML renders Template as YAML.
func YAML(tables []*schemas.Schema, o schemas.Options, c Options) ([]byte, error) {
	t, err := Template(tables, o, c)
	if err != nil {
		return nil, err
	}
	out, err := t.YAML()
	if err != nil {
		return nil, fmt.Errorf("cfn: render CloudFormation YAML: %w", err)
	}
	return out, nil
}
