package schemas_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/schemas/gluedef"
)

// hiveType is a recursive-descent reader of the Hive column type grammar
// Glue stores: primitive types, decimal(p,s) with 1 <= p <= 38 and
// 0 <= s <= p, char(n)/varchar(n), array<T>, map<K,V> and
// struct<name:T,...>.
type hiveType struct {
	s   string
	pos int
}

// parseHiveType reports whether s is a valid Hive type.
func parseHiveType(s string) error {
	p := &hiveType{s: s}
	if err := p.typ(); err != nil {
		return err
	}
	if p.pos != len(p.s) {
		return fmt.Errorf("%q: trailing %q", s, p.s[p.pos:])
	}
	return nil
}

func (p *hiveType) word() string {
	start := p.pos
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			break
		}
		p.pos++
	}
	return p.s[start:p.pos]
}

func (p *hiveType) expect(c byte) error {
	if p.pos >= len(p.s) || p.s[p.pos] != c {
		return fmt.Errorf("%q: want %q at %d", p.s, c, p.pos)
	}
	p.pos++
	return nil
}

func (p *hiveType) number() (int, error) {
	start := p.pos
	for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
		p.pos++
	}
	return strconv.Atoi(p.s[start:p.pos])
}

func (p *hiveType) typ() error {
	switch w := p.word(); w {
	case "string", "bigint", "int", "smallint", "tinyint", "double", "float",
		"boolean", "binary", "timestamp", "date":
		return nil
	case "char", "varchar":
		if err := p.expect('('); err != nil {
			return err
		}
		if n, err := p.number(); err != nil || n < 1 {
			return fmt.Errorf("%q: bad length", p.s)
		}
		return p.expect(')')
	case "decimal":
		if p.pos == len(p.s) || p.s[p.pos] != '(' {
			return nil // decimal alone is decimal(10,0)
		}
		p.pos++
		prec, err := p.number()
		if err != nil || prec < 1 || prec > 38 {
			return fmt.Errorf("%q: precision must be 1-38", p.s)
		}
		scale := 0
		if p.pos < len(p.s) && p.s[p.pos] == ',' {
			p.pos++
			if scale, err = p.number(); err != nil || scale > prec {
				return fmt.Errorf("%q: scale must be 0-precision", p.s)
			}
		}
		return p.expect(')')
	case "array":
		if err := p.expect('<'); err != nil {
			return err
		}
		if err := p.typ(); err != nil {
			return err
		}
		return p.expect('>')
	case "map":
		if err := p.expect('<'); err != nil {
			return err
		}
		if err := p.typ(); err != nil {
			return err
		}
		if err := p.expect(','); err != nil {
			return err
		}
		if err := p.typ(); err != nil {
			return err
		}
		return p.expect('>')
	case "struct":
		if err := p.expect('<'); err != nil {
			return err
		}
		for {
			if p.word() == "" {
				return fmt.Errorf("%q: struct field name at %d", p.s, p.pos)
			}
			if err := p.expect(':'); err != nil {
				return err
			}
			if err := p.typ(); err != nil {
				return err
			}
			if p.pos < len(p.s) && p.s[p.pos] == ',' {
				p.pos++
				continue
			}
			return p.expect('>')
		}
	default:
		return fmt.Errorf("%q: unknown type %q", p.s, w)
	}
}

func TestHiveTypeGrammar(t *testing.T) {
	for _, ok := range []string{"string", "decimal(38,2)", "decimal(12)", "array<bigint>",
		"array<decimal(10,3)>", "map<string,array<int>>", "struct<a:string,b:array<binary>>", "varchar(10)"} {
		require.NoError(t, parseHiveType(ok), ok)
	}
	for _, bad := range []string{"json", "decimal(39,2)", "decimal(10,11)", "decimal(0,0)", "array<>",
		"array<string", "array<string>>", "String", "map<string>", "struct<>", ""} {
		require.Error(t, parseHiveType(bad), bad)
	}
}

func TestGlueTableInputJSON(t *testing.T) {
	for _, s := range []*schemas.Schema{sample(t), sampleHourly(t)} {
		in0, err := gluedef.LakeTable(s, sampleOptions)
		require.NoError(t, err)
		raw, err := gluedef.JSON(in0)
		require.NoError(t, err)

		// the API spells fields in PascalCase and nothing is null or zero
		var generic map[string]any
		require.NoError(t, json.Unmarshal(raw, &generic))
		for _, k := range []string{"Name", "Description", "TableType", "Parameters", "PartitionKeys", "StorageDescriptor"} {
			require.Contains(t, generic, k)
		}
		require.NotContains(t, generic, "Retention", "zero scalars are left out, as the SDK does")
		require.NotContains(t, string(raw), "null")
		require.NotContains(t, string(raw), `\u003c`, "types read as array<...>, not escaped")
		sd := generic["StorageDescriptor"].(map[string]any)
		require.NotContains(t, sd, "Compressed")
		require.NotContains(t, sd, "NumberOfBuckets")

		var in gluedef.TableInput
		require.NoError(t, json.Unmarshal(raw, &in))
		require.Equal(t, "chat_messages", in.Name)
		require.Equal(t, "EXTERNAL_TABLE", in.TableType)
		require.NotNil(t, in.StorageDescriptor)
		require.Equal(t, "s3://acme-data-lake/ddblake/chat_messages/_symlink_format_manifest/", in.StorageDescriptor.Location)
		require.Equal(t, schemas.SymlinkInputFormat, in.StorageDescriptor.InputFormat)
		require.Equal(t, schemas.SymlinkOutputFormat, in.StorageDescriptor.OutputFormat)
		require.Equal(t, schemas.ParquetSerDe, in.StorageDescriptor.SerdeInfo.SerializationLibrary)

		want := schemas.TableColumns(s)
		require.Len(t, in.StorageDescriptor.Columns, len(want))
		for i, c := range in.StorageDescriptor.Columns {
			require.Equal(t, want[i].Name, c.Name)
			require.NoError(t, parseHiveType(c.Type), "column %s", want[i].Name)
			parsed, err := schemas.ParseType(c.Type)
			require.NoError(t, err)
			require.Equal(t, want[i].Type.AthenaName(), parsed.AthenaName())
			if want[i].Path != "" {
				require.Equal(t, want[i].Path, c.Comment)
			} else {
				require.NotEmpty(t, c.Comment)
			}
		}
		var parts []string
		for _, p := range in.PartitionKeys {
			require.Equal(t, "string", p.Type)
			parts = append(parts, p.Name)
		}
		if s.Hourly {
			require.Equal(t, []string{"dt", "hr"}, parts)
			require.Equal(t, "integer", in.Parameters["projection.hr.type"])
		} else {
			require.Equal(t, []string{"dt"}, parts)
			require.NotContains(t, in.Parameters, "projection.hr.type")
		}
		require.Equal(t, "parquet", in.Parameters["classification"])
		require.Equal(t, "true", in.Parameters["projection.enabled"])
		require.Equal(t, "2026-03-28,NOW", in.Parameters["projection.dt.range"])
		require.True(t, strings.HasPrefix(in.Parameters["storage.location.template"], "s3://acme-data-lake/ddblake/chat_messages/_symlink_format_manifest/dt=${dt}/"))

		// The Athena DDL and the Glue table say the same thing.
		ddl, err := schemas.CreateTableDDL(s, sampleOptions)
		require.NoError(t, err)
		props := tblProperties(t, ddl)
		require.Equal(t, props, in.Parameters)
	}
}
