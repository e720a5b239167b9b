package schemas_test

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/schemas/cfn"
	"github.com/ddblake/ddblake/schemas/firehosedef"
	"github.com/ddblake/ddblake/schemas/gluedef"
)

// The -update flag rewrites the golden files. It is registered only once
// per test binary, whichever test file of the package gets there first.
var _ = func() bool {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
	return true
}()

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// golden compares got with testdata/ddl/<name>, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "ddl", name)
	if updating() {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./schemas -run %s -update to create it", t.Name())
	require.Equal(t, string(want), string(got), "golden file %s differs; rerun with -update if the change is intended", path)
}

// sample loads the chat-messages schema: keys roomId + sk, nested sender
// profile columns, a decimal, bigints, arrays, binary, json, a column made
// from a Korean attribute name, and paths holding a dot and a quote.
func sample(t testing.TB) *schemas.Schema {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "ddl", "chat_messages.schema.json"))
	require.NoError(t, err)
	var s schemas.Schema
	require.NoError(t, json.Unmarshal(b, &s))
	return &s
}

func sampleHourly(t testing.TB) *schemas.Schema {
	s := sample(t).Clone()
	s.Hourly = true
	return s
}

var sampleOptions = schemas.Options{Database: "chat_lake", Location: "s3://acme-data-lake/ddblake"}

var sampleFirehose = firehosedef.Options{
	RoleARN: "arn:aws:iam::123456789012:role/ddblake-firehose",
	Region:  "ap-northeast-2",
}

// TestGolden pins every output format for the daily and hourly variants.
func TestGolden(t *testing.T) {
	variants := []struct {
		name   string
		schema func(testing.TB) *schemas.Schema
	}{
		{"chat_messages", sample},
		{"chat_messages_hourly", sampleHourly},
	}
	formats := []struct {
		ext    string
		render func(*schemas.Schema) ([]byte, error)
	}{
		{"athena.sql", func(s *schemas.Schema) ([]byte, error) {
			ddl, err := schemas.CreateTableDDL(s, sampleOptions)
			return []byte(ddl + ";\n"), err
		}},
		{"view.sql", func(s *schemas.Schema) ([]byte, error) {
			ddl, err := schemas.LatestViewDDL(s, sampleOptions)
			return []byte(ddl + ";\n"), err
		}},
		{"glue.json", func(s *schemas.Schema) ([]byte, error) {
			in, err := gluedef.LakeTable(s, sampleOptions)
			if err != nil {
				return nil, err
			}
			return gluedef.JSON(in)
		}},
		{"cfn.json", func(s *schemas.Schema) ([]byte, error) {
			return cfn.JSON([]*schemas.Schema{s}, sampleOptions,
				cfn.Options{IncludeDatabase: true})
		}},
		{"cfn.yaml", func(s *schemas.Schema) ([]byte, error) {
			return cfn.YAML([]*schemas.Schema{s}, sampleOptions,
				cfn.Options{IncludeDatabase: true})
		}},
		{"firehose.json", func(s *schemas.Schema) ([]byte, error) {
			return firehosedef.DestinationJSON(s, sampleOptions, sampleFirehose)
		}},
	}
	for _, v := range variants {
		for _, f := range formats {
			t.Run(v.name+"."+f.ext, func(t *testing.T) {
				got, err := f.render(v.schema(t))
				require.NoError(t, err)
				golden(t, v.name+"."+f.ext, got)
			})
		}
	}
}

// columnLine matches one column definition of the DDL.
var columnLine = regexp.MustCompile("^  `([a-z0-9_]+)` (\\S+) COMMENT '((?:[^'\\\\]|\\\\.)*)',?$")

// hiveUnquote undoes the backslash escapes of a Hive string literal body.
func hiveUnquote(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

type ddlColumn struct{ name, typ, comment string }

// parseColumns returns the column definitions in the body of the first
// parenthesised list after marker.
func parseColumns(t *testing.T, ddl, marker string) []ddlColumn {
	t.Helper()
	start := strings.Index(ddl, marker)
	require.GreaterOrEqual(t, start, 0, "no %q in DDL", marker)
	var cols []ddlColumn
	for _, line := range strings.Split(ddl[start+len(marker):], "\n")[1:] {
		if line == ")" {
			return cols
		}
		m := columnLine.FindStringSubmatch(line)
		require.NotNil(t, m, "bad column line %q", line)
		cols = append(cols, ddlColumn{m[1], m[2], hiveUnquote(m[3])})
	}
	t.Fatalf("unterminated column list after %q", marker)
	return nil
}

func TestCreateTableDDL(t *testing.T) {
	for _, hourly := range []bool{false, true} {
		s := sample(t).Clone()
		s.Hourly = hourly
		ddl, err := schemas.CreateTableDDL(s, sampleOptions)
		require.NoError(t, err)

		require.True(t, strings.HasPrefix(ddl, "CREATE EXTERNAL TABLE IF NOT EXISTS `chat_lake`.`chat_messages` (\n"), ddl)
		cols := parseColumns(t, ddl, "`chat_lake`.`chat_messages` (")
		want := schemas.TableColumns(s)
		require.Len(t, cols, len(want))
		for i, c := range want {
			require.Equal(t, c.Name, cols[i].name)
			require.Equal(t, c.Type.AthenaName(), cols[i].typ, c.Name)
			if c.Path != "" {
				require.Equal(t, c.Path, cols[i].comment, "comment of %s holds its DynamoDB path", c.Name)
			}
		}
		// metadata first, in their fixed order
		for i, m := range schemas.MetadataColumns() {
			require.Equal(t, m.Name, cols[i].name)
		}

		parts := parseColumns(t, ddl, "PARTITIONED BY (")
		if hourly {
			require.Equal(t, []string{"dt", "hr"}, []string{parts[0].name, parts[1].name})
		} else {
			require.Len(t, parts, 1)
			require.Equal(t, "dt", parts[0].name)
		}
		for _, p := range parts {
			require.Equal(t, "string", p.typ)
		}

		require.Contains(t, ddl, "ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'\n")
		// The table reads each partition's files through its manifest.
		require.Contains(t, ddl, "STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat'\n")
		require.Contains(t, ddl, "OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'\n")
		require.Contains(t, ddl, "LOCATION 's3://acme-data-lake/ddblake/chat_messages/_symlink_format_manifest/'\n")

		props := tblProperties(t, ddl)
		require.Equal(t, "true", props["projection.enabled"])
		require.Equal(t, "date", props["projection.dt.type"])
		require.Equal(t, "2026-03-28,NOW", props["projection.dt.range"])
		require.Equal(t, "yyyy-MM-dd", props["projection.dt.format"])
		require.Equal(t, "1", props["projection.dt.interval"])
		require.Equal(t, "DAYS", props["projection.dt.interval.unit"])
		require.Equal(t, "ZSTD", props["parquet.compression"])
		if hourly {
			require.Equal(t, "integer", props["projection.hr.type"])
			require.Equal(t, "0,23", props["projection.hr.range"])
			require.Equal(t, "2", props["projection.hr.digits"])
			require.Equal(t, "s3://acme-data-lake/ddblake/chat_messages/_symlink_format_manifest/dt=${dt}/hr=${hr}/", props["storage.location.template"])
		} else {
			require.NotContains(t, props, "projection.hr.type")
			require.Equal(t, "s3://acme-data-lake/ddblake/chat_messages/_symlink_format_manifest/dt=${dt}/", props["storage.location.template"])
		}
	}
}

// tblProperties parses the TBLPROPERTIES list.
func tblProperties(t *testing.T, ddl string) map[string]string {
	t.Helper()
	i := strings.Index(ddl, "TBLPROPERTIES (\n")
	require.GreaterOrEqual(t, i, 0)
	re := regexp.MustCompile(`^  '([^']*)'='([^']*)',?$`)
	props := map[string]string{}
	for _, line := range strings.Split(ddl[i:], "\n")[1:] {
		if line == ")" {
			return props
		}
		m := re.FindStringSubmatch(line)
		require.NotNil(t, m, "bad property line %q", line)
		props[m[1]] = m[2]
	}
	t.Fatal("unterminated TBLPROPERTIES")
	return nil
}

func TestCreateTableDDLDefaults(t *testing.T) {
	s := sample(t).Clone()
	s.FirstPartition = ""
	ddl, err := schemas.CreateTableDDL(s, schemas.Options{Location: "s3://acme-data-lake/"})
	require.NoError(t, err)
	require.Contains(t, ddl, "`"+schemas.DefaultDatabase+"`.`chat_messages`")
	require.Contains(t, ddl, "LOCATION 's3://acme-data-lake/chat_messages/_symlink_format_manifest/'")
	props := tblProperties(t, ddl)
	require.Equal(t, schemas.DefaultFirstPartition+",NOW", props["projection.dt.range"])
	require.Equal(t, schemas.DefaultCompression, props["parquet.compression"])

	ddl, err = schemas.CreateTableDDL(s, schemas.Options{Location: "s3://acme-data-lake/x", Compression: "snappy"})
	require.NoError(t, err)
	require.Equal(t, "SNAPPY", tblProperties(t, ddl)["parquet.compression"])
}

func TestCreateDatabaseDDL(t *testing.T) {
	got, err := schemas.CreateDatabaseDDL(sampleOptions)
	require.NoError(t, err)
	require.Equal(t, "CREATE DATABASE IF NOT EXISTS `chat_lake`", got)
	_, err = schemas.CreateDatabaseDDL(schemas.Options{Database: "Chat-Lake"})
	require.ErrorIs(t, err, schemas.ErrBadName)
}

func TestCommentEscaping(t *testing.T) {
	s := schemas.NewSchema("t1")
	for _, c := range []schemas.Column{
		{Name: "quote", Path: `it's "here"`, Type: schemas.String},
		{Name: "dotted", Path: `a\.b.c\\d`, Type: schemas.String},
		{Name: "control", Path: "line\nbreak\ttab", Type: schemas.String},
	} {
		_, err := s.Add(c)
		require.NoError(t, err)
	}
	ddl, err := schemas.CreateTableDDL(s, sampleOptions)
	require.NoError(t, err)
	require.Contains(t, ddl, "`quote` string COMMENT 'it\\'s \"here\"'")
	require.Contains(t, ddl, "`dotted` string COMMENT 'a\\\\.b.c\\\\\\\\d'")
	cols := parseColumns(t, ddl, "`chat_lake`.`t1` (")
	got := map[string]string{}
	for _, c := range cols {
		got[c.name] = c.comment
	}
	require.Equal(t, `it's "here"`, got["quote"])
	require.Equal(t, `a\.b.c\\d`, got["dotted"])
	require.Equal(t, "line\uFFFDbreak\uFFFDtab", got["control"], "control characters cannot be stored in a Glue comment")
}

func TestColumnComment(t *testing.T) {
	utf16Len := func(s string) int { return len(utf16.Encode([]rune(s))) }
	long := strings.Repeat("가", 300)
	emoji := strings.Repeat("😀", 200)
	exact := strings.Repeat("a", 255)
	tests := []struct {
		name, path string
		want       string
	}{
		{"short", "sender.profile.imageUrl", "sender.profile.imageUrl"},
		{"exactly 255", exact, exact},
		{"korean cut", long, strings.Repeat("가", 254) + "…"},
		{"surrogates cut", emoji, strings.Repeat("😀", 127) + "…"},
		{"invalid utf8", "a\xffb", "a\uFFFDb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := schemas.ColumnComment(schemas.Column{Name: "x", Path: tc.path, Type: schemas.String})
			require.Equal(t, tc.want, got)
			require.LessOrEqual(t, utf16Len(got), 255)
		})
	}
	require.NotEmpty(t, schemas.ColumnComment(schemas.MetadataColumns()[0]), "metadata columns are described")
}

func TestValidateForAthena(t *testing.T) {
	base := func() *schemas.Schema { return sample(t).Clone() }
	tests := []struct {
		name   string
		mutate func(*schemas.Schema)
		want   error
		column string
	}{
		{"upper case", func(s *schemas.Schema) { s.Columns[2].Name = "messageId" }, schemas.ErrBadName, "messageId"},
		{"hyphen", func(s *schemas.Schema) { s.Columns[2].Name = "message-id" }, schemas.ErrBadName, "message-id"},
		{"non ascii", func(s *schemas.Schema) { s.Columns[2].Name = "반응" }, schemas.ErrBadName, "반응"},
		{"empty", func(s *schemas.Schema) { s.Columns[2].Name = "" }, schemas.ErrBadName, ""},
		{"too long", func(s *schemas.Schema) { s.Columns[2].Name = strings.Repeat("a", 256) }, schemas.ErrBadName, strings.Repeat("a", 256)},
		{"reserved", func(s *schemas.Schema) { s.Columns[2].Name = "dt" }, schemas.ErrBadName, "dt"},
		{"metadata name", func(s *schemas.Schema) { s.Columns[2].Name = "_extra" }, schemas.ErrBadName, "_extra"},
		{"duplicate", func(s *schemas.Schema) { s.Columns[2].Name = "sk" }, schemas.ErrBadName, "sk"},
		{"precision 39", func(s *schemas.Schema) { s.Columns[8].Type = schemas.Decimal(39, 2) }, schemas.ErrBadType, "tip_amount"},
		{"array of json", func(s *schemas.Schema) { s.Columns[9].Type = schemas.ArrayOf(schemas.JSON) }, schemas.ErrBadType, "tags"},
		{"bad table", func(s *schemas.Schema) { s.Table = "chat-messages" }, schemas.ErrBadName, ""},
		{"table too long for view", func(s *schemas.Schema) { s.Table = strings.Repeat("t", 250) }, schemas.ErrBadName, ""},
		{"bad first partition", func(s *schemas.Schema) { s.FirstPartition = "2026/03/28" }, schemas.ErrBadSchema, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := base()
			tc.mutate(s)
			err := schemas.ValidateForAthena(s)
			require.ErrorIs(t, err, tc.want)
			var de *schemas.DefinitionError
			require.True(t, errors.As(err, &de))
			require.Equal(t, tc.column, de.Column)

			// and no output format produces anything for it
			ddl, err := schemas.CreateTableDDL(s, sampleOptions)
			require.ErrorIs(t, err, tc.want)
			require.Empty(t, ddl)
			_, err = gluedef.LakeTable(s, sampleOptions)
			require.ErrorIs(t, err, tc.want)
			_, err = cfn.JSON([]*schemas.Schema{s}, sampleOptions, cfn.Options{})
			require.ErrorIs(t, err, tc.want)
			_, err = firehosedef.DestinationJSON(s, sampleOptions, firehosedef.Options{})
			require.ErrorIs(t, err, tc.want)
			_, err = schemas.LatestViewDDL(s, sampleOptions)
			require.ErrorIs(t, err, tc.want)
		})
	}
	require.NoError(t, schemas.ValidateForAthena(sample(t)))
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts schemas.Options
		want error
	}{
		{"bucket only", schemas.Options{Location: "s3://acme-data-lake"}, nil},
		{"trailing slash", schemas.Options{Location: "s3://acme-data-lake/a/b/"}, nil},
		{"local dir", schemas.Options{Location: "./lake"}, schemas.ErrBadLocation},
		{"file uri", schemas.Options{Location: "file:///tmp/lake"}, schemas.ErrBadLocation},
		{"empty", schemas.Options{}, schemas.ErrBadLocation},
		{"upper-case bucket", schemas.Options{Location: "s3://Acme/x"}, schemas.ErrBadLocation},
		{"short bucket", schemas.Options{Location: "s3://ab"}, schemas.ErrBadLocation},
		{"empty segment", schemas.Options{Location: "s3://acme-data-lake//x"}, schemas.ErrBadLocation},
		{"dot segment", schemas.Options{Location: "s3://acme-data-lake/a/../b"}, schemas.ErrBadLocation},
		{"bad database", schemas.Options{Database: "my-db", Location: "s3://acme-data-lake"}, schemas.ErrBadName},
		{"bad compression", schemas.Options{Location: "s3://acme-data-lake", Compression: "lz4"}, schemas.ErrBadOption},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opts.Validate()
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
			_, err = schemas.CreateTableDDL(sample(t), tc.opts)
			require.ErrorIs(t, err, tc.want)
		})
	}
}

func TestTableLocation(t *testing.T) {
	for loc, want := range map[string]string{
		"s3://acme-data-lake":           "s3://acme-data-lake/chat_messages/",
		"s3://acme-data-lake/":          "s3://acme-data-lake/chat_messages/",
		"s3://acme-data-lake/lake":      "s3://acme-data-lake/lake/chat_messages/",
		"s3://acme-data-lake/a/b/lake/": "s3://acme-data-lake/a/b/lake/chat_messages/",
	} {
		got, err := schemas.TableLocation(loc, "chat_messages")
		require.NoError(t, err)
		require.Equal(t, want, got, loc)
	}
}

func TestAthenaScript(t *testing.T) {
	noKeys := schemas.NewSchema("exported")
	_, err := noKeys.Add(schemas.Column{Name: "id", Path: "id", Type: schemas.String})
	require.NoError(t, err)

	script, err := schemas.AthenaScript([]*schemas.Schema{sample(t), noKeys}, sampleOptions)
	require.NoError(t, err)
	stmts := strings.Split(strings.TrimSuffix(script, "\n"), ";\n\n")
	require.Len(t, stmts, 5, script)
	require.Equal(t, "CREATE DATABASE IF NOT EXISTS `chat_lake`", stmts[0])
	require.True(t, strings.HasPrefix(stmts[1], "CREATE EXTERNAL TABLE IF NOT EXISTS `chat_lake`.`chat_messages`"))
	require.True(t, strings.HasPrefix(stmts[2], `CREATE OR REPLACE VIEW "chat_lake"."chat_messages_latest"`))
	require.True(t, strings.HasPrefix(stmts[3], "CREATE EXTERNAL TABLE IF NOT EXISTS `chat_lake`.`exported`"))
	require.True(t, strings.HasPrefix(stmts[4], "-- no exported_latest view: "), stmts[4])
	require.NotContains(t, script, `"exported_latest"`)

	bad := sample(t).Clone()
	bad.Columns[0].Name = "Room"
	_, err = schemas.AthenaScript([]*schemas.Schema{bad}, sampleOptions)
	require.ErrorIs(t, err, schemas.ErrBadName)
}

// TestStatementSizeLimit checks the statements stay under Athena's
// 262,144 bytes: a long CREATE TABLE loses its data columns' comments,
// and one still too long fails with ErrStatementTooLong rather than
// printing a statement Athena refuses.
func TestStatementSizeLimit(t *testing.T) {
	wide := func(n, nameLen int) *schemas.Schema {
		s := schemas.NewSchema("wide")
		s.Keys = []string{"id"}
		_, err := s.Add(schemas.Column{Name: "id", Path: "id", Type: schemas.String})
		require.NoError(t, err)
		for i := range n {
			name := fmt.Sprintf("c%0*d", nameLen-1, i)
			_, err := s.Add(schemas.Column{Name: name, Path: "attributes." + name + ".value", Type: schemas.MapOf(schemas.Bigint)})
			require.NoError(t, err)
		}
		return s
	}
	// 1,000 columns of short names: as they are.
	ddl, err := schemas.CreateTableDDL(wide(1000, 12), sampleOptions)
	require.NoError(t, err)
	require.Less(t, len(ddl), schemas.MaxStatementBytes)
	require.Contains(t, ddl, "COMMENT 'attributes.c00000000999.value'")

	// 3,000 columns: too long with comments, fits without.
	ddl, err = schemas.CreateTableDDL(wide(3000, 20), sampleOptions)
	require.NoError(t, err)
	require.LessOrEqual(t, len(ddl), schemas.MaxStatementBytes)
	require.False(t, strings.Contains(ddl, "COMMENT 'attributes."), "no data column comments")
	require.True(t, strings.Contains(ddl, "`_extra` string COMMENT"), "metadata columns keep their comments")
	require.True(t, strings.Contains(ddl, "\n  `c0000000000000002999` map<string,bigint>\n)"))

	// 20,003 columns, the size of a table whose user ids became columns.
	s := wide(20002, 12)
	_, err = schemas.CreateTableDDL(s, sampleOptions)
	require.ErrorIs(t, err, schemas.ErrStatementTooLong)
	require.ErrorContains(t, err, "20003 columns")
	_, err = schemas.LatestViewDDL(s, sampleOptions)
	require.ErrorIs(t, err, schemas.ErrStatementTooLong)
	_, err = schemas.AddColumnsDDL(wide(0, 12), s, sampleOptions)
	require.ErrorIs(t, err, schemas.ErrStatementTooLong)
	_, err = gluedef.LakeTable(s, sampleOptions)
	require.NoError(t, err, "the Glue API takes what Athena DDL cannot")
}
