package schemas_test

import (
	"encoding/json"
	"testing"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/schemas/cfn"
)

func TestCloudFormationParses(t *testing.T) {
	tables := []*schemas.Schema{sample(t)}
	hourly := sampleHourly(t)
	hourly.Table = "chat_messages_by_hour"
	tables = append(tables, hourly)

	for _, includeDB := range []bool{false, true} {
		opts := cfn.Options{IncludeDatabase: includeDB}
		js, err := cfn.JSON(tables, sampleOptions, opts)
		require.NoError(t, err)
		ym, err := cfn.YAML(tables, sampleOptions, opts)
		require.NoError(t, err)

		// raw shape: resource types and properties, CatalogId a Ref
		var raw struct {
			Resources map[string]struct {
				Type       string
				DependsOn  []string
				Properties map[string]json.RawMessage
			}
		}
		require.NoError(t, json.Unmarshal(js, &raw))
		tableRes := raw.Resources["ChatMessagesTable"]
		require.Equal(t, "AWS::Glue::Table", tableRes.Type)
		require.JSONEq(t, `{"Ref":"AWS::AccountId"}`, string(tableRes.Properties["CatalogId"]))
		require.JSONEq(t, `"chat_lake"`, string(tableRes.Properties["DatabaseName"]))
		require.Contains(t, tableRes.Properties, "TableInput")
		if includeDB {
			require.Len(t, raw.Resources, 3)
			require.Equal(t, "AWS::Glue::Database", raw.Resources["ChatLakeDatabase"].Type)
			require.Equal(t, []string{"ChatLakeDatabase"}, tableRes.DependsOn)
		} else {
			require.Len(t, raw.Resources, 2)
			require.Empty(t, tableRes.DependsOn)
		}

		for name, parse := range map[string]func() (*cloudformation.Template, error){
			"json": func() (*cloudformation.Template, error) { return goformation.ParseJSON(js) },
			"yaml": func() (*cloudformation.Template, error) { return goformation.ParseYAML(ym) },
		} {
			tmpl, err := parse()
			require.NoError(t, err, name)
			require.Len(t, tmpl.GetAllGlueTableResources(), 2, name)
			for _, s := range tables {
				tbl, err := tmpl.GetGlueTableWithName(cfn.TableLogicalID(s.Table))
				require.NoError(t, err, name)
				require.Equal(t, "123456789012", tbl.CatalogId, "goformation resolves AWS::AccountId")
				require.Equal(t, "chat_lake", tbl.DatabaseName)
				in := tbl.TableInput
				require.NotNil(t, in)
				require.Equal(t, s.Table, *in.Name)
				require.Equal(t, "EXTERNAL_TABLE", *in.TableType)
				want := schemas.TableColumns(s)
				require.Len(t, in.StorageDescriptor.Columns, len(want))
				for i, c := range in.StorageDescriptor.Columns {
					require.Equal(t, want[i].Name, c.Name)
					require.Equal(t, want[i].Type.AthenaName(), *c.Type)
					require.NoError(t, parseHiveType(*c.Type))
				}
				require.Equal(t, "s3://acme-data-lake/ddblake/"+s.Table+"/_symlink_format_manifest/", *in.StorageDescriptor.Location)
				require.Equal(t, schemas.SymlinkInputFormat, *in.StorageDescriptor.InputFormat)
				require.Equal(t, schemas.ParquetSerDe, *in.StorageDescriptor.SerdeInfo.SerializationLibrary)
				params, ok := in.Parameters.(map[string]any)
				require.True(t, ok, "%T", in.Parameters)
				require.Equal(t, "true", params["projection.enabled"])
				require.Equal(t, "parquet", params["classification"])
				if s.Hourly {
					require.Len(t, in.PartitionKeys, 2)
					require.Equal(t, "0,23", params["projection.hr.range"])
				} else {
					require.Len(t, in.PartitionKeys, 1)
				}
			}
			if includeDB {
				db, err := tmpl.GetGlueDatabaseWithName("ChatLakeDatabase")
				require.NoError(t, err, name)
				require.Equal(t, "chat_lake", *db.DatabaseInput.Name)
			}
		}
	}
}

func TestCloudFormationLogicalIDs(t *testing.T) {
	require.Equal(t, "ChatMessagesTable", cfn.TableLogicalID("chat_messages"))
	require.Equal(t, "DdblakeDatabase", cfn.DatabaseLogicalID("ddblake"))

	a, b := schemas.NewSchema("a_1"), schemas.NewSchema("a1")
	tmpl, err := cfn.Template([]*schemas.Schema{a, b}, sampleOptions, cfn.Options{})
	require.NoError(t, err)
	require.Contains(t, tmpl.Resources, "A1Table")
	require.Contains(t, tmpl.Resources, "A1Table2", "colliding logical IDs are numbered")

	_, err = cfn.Template([]*schemas.Schema{a, a}, sampleOptions, cfn.Options{})
	require.ErrorIs(t, err, schemas.ErrBadName)
}
