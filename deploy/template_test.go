package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/iam"
	"github.com/awslabs/goformation/v7/intrinsics"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/schemas/gluedef"
	"github.com/ddblake/ddblake/sink/firehose"
)

const templatePath = "template.yaml"

// Values the template is evaluated with.
const (
	account   = "123456789012"
	region    = "eu-west-1"
	stackName = "ddblake-test"
	bucket    = "lake-bucket"
	ddbStream = "arn:aws:dynamodb:eu-west-1:123456789012:table/chat-messages/stream/2026-01-01T00:00:00.000"
	kinStream = "arn:aws:kinesis:eu-west-1:123456789012:stream/chat-changes"
)

// deployment is the template as CloudFormation would see it for one set
// of parameters: intrinsic functions resolved (references to resources
// and their attributes kept as "ref(Name)" and "getatt(Name.Attr)"), and
// the conditions evaluated.
type deployment struct {
	tmpl  *cloudformation.Template
	raw   map[string]any
	conds map[string]bool
}

// load evaluates the template for a sink and a stream ARN.
func load(t *testing.T, sink, stream string) *deployment {
	t.Helper()
	return loadWith(t, sink, stream, nil)
}

// loadWith is load with more parameters.
func loadWith(t *testing.T, sink, stream string, more map[string]any) *deployment {
	t.Helper()
	params := map[string]any{"LakeBucket": bucket, "StreamArn": stream, "Sink": sink}
	for k, v := range more {
		params[k] = v
	}
	opts := &intrinsics.ProcessorOptions{
		ParameterOverrides: params,
		IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{
			"Ref":        refHandler,
			"Fn::GetAtt": getAttHandler,
			"Fn::Sub":    subHandler,
			"Fn::If":     ifHandler,
			"Fn::Split":  splitHandler,
		},
	}
	tmpl, err := goformation.OpenWithOptions(templatePath, opts)
	require.NoError(t, err)

	// The raw template, for the conditions of resources.
	data, err := os.ReadFile(templatePath)
	require.NoError(t, err)
	rawJSON, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{NoProcess: true})
	require.NoError(t, err)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(rawJSON, &raw))
	for name, v := range params {
		raw["Parameters"].(map[string]any)[name].(map[string]any)["Default"] = v
	}
	d := &deployment{tmpl: tmpl, raw: raw, conds: map[string]bool{}}
	for name := range raw["Conditions"].(map[string]any) {
		d.conds[name] = evalCondition(name, raw)
	}
	return d
}

// present reports whether the resource exists for these parameters.
func (d *deployment) present(t *testing.T, name string) bool {
	t.Helper()
	res, ok := d.raw["Resources"].(map[string]any)[name].(map[string]any)
	require.True(t, ok, "resource %s", name)
	cond, ok := res["Condition"].(string)
	if !ok {
		return true
	}
	v, ok := d.conds[cond]
	require.True(t, ok, "condition %s", cond)
	return v
}

func pseudo(name string) (string, bool) {
	switch name {
	case "AWS::AccountId":
		return account, true
	case "AWS::Region":
		return region, true
	case "AWS::Partition":
		return "aws", true
	case "AWS::StackName":
		return stackName, true
	case "AWS::URLSuffix":
		return "amazonaws.com", true
	}
	return "", false
}

// refValue resolves Ref name: a pseudo parameter, a parameter's value, or
// a resource as "ref(Name)".
func refValue(name string, tmpl any) any {
	if v, ok := pseudo(name); ok {
		return v
	}
	if params, ok := tmpl.(map[string]any)["Parameters"].(map[string]any); ok {
		if p, ok := params[name].(map[string]any); ok {
			if v, ok := p["Default"]; ok {
				return v
			}
		}
	}
	return "ref(" + name + ")"
}

func refHandler(_ string, input, tmpl any) any {
	name, _ := input.(string)
	if name == "AWS::NoValue" {
		return nil
	}
	return refValue(name, tmpl)
}

func getAttHandler(_ string, input, _ any) any {
	switch v := input.(type) {
	case string:
		return "getatt(" + v + ")"
	case []any:
		return fmt.Sprintf("getatt(%v.%v)", v[0], v[1])
	}
	return nil
}

var subVariable = regexp.MustCompile(`\$\{([^}]*)\}`)

func subHandler(_ string, input, tmpl any) any {
	var text string
	vars := map[string]any{}
	switch v := input.(type) {
	case string:
		text = v
	case []any:
		text = v[0].(string)
		vars = v[1].(map[string]any)
	}
	return subVariable.ReplaceAllStringFunc(text, func(m string) string {
		name := m[2 : len(m)-1]
		switch {
		case strings.HasPrefix(name, "!"):
			return "${" + name[1:] + "}"
		case vars[name] != nil:
			return fmt.Sprint(vars[name])
		case strings.Contains(name, "."):
			return "getatt(" + name + ")"
		}
		return fmt.Sprint(refValue(name, tmpl))
	})
}

// splitHandler is Fn::Split returning a list Fn::Select can index
// (goformation's returns a []string, which its Fn::Select ignores).
func splitHandler(_ string, input, _ any) any {
	arr := input.([]any)
	var out []any
	for _, s := range strings.Split(fmt.Sprint(arr[1]), fmt.Sprint(arr[0])) {
		out = append(out, s)
	}
	return out
}

func ifHandler(_ string, input, tmpl any) any {
	arr := input.([]any)
	if evalCondition(arr[0].(string), tmpl) {
		return arr[1]
	}
	return arr[2]
}

// evalCondition evaluates the template's condition name.
func evalCondition(name string, tmpl any) bool {
	expr := tmpl.(map[string]any)["Conditions"].(map[string]any)[name]
	return evalValue(expr, tmpl).(bool)
}

// evalValue evaluates the functions allowed in conditions.
func evalValue(expr, tmpl any) any {
	m, ok := expr.(map[string]any)
	if !ok || len(m) != 1 {
		return expr
	}
	for fn, arg := range m {
		args, _ := arg.([]any)
		switch fn {
		case "Fn::Equals":
			return fmt.Sprint(evalValue(args[0], tmpl)) == fmt.Sprint(evalValue(args[1], tmpl))
		case "Fn::Not":
			return !evalValue(args[0], tmpl).(bool)
		case "Fn::And", "Fn::Or":
			all, anyOf := true, false
			for _, a := range args {
				v := evalValue(a, tmpl).(bool)
				all, anyOf = all && v, anyOf || v
			}
			return (fn == "Fn::And" && all) || (fn == "Fn::Or" && anyOf)
		case "Condition":
			return evalCondition(arg.(string), tmpl)
		case "Ref":
			return refValue(arg.(string), tmpl)
		case "Fn::Select":
			list := evalValue(args[1], tmpl).([]any)
			return list[int(args[0].(float64))]
		case "Fn::Split":
			var out []any
			for _, s := range strings.Split(fmt.Sprint(evalValue(args[1], tmpl)), args[0].(string)) {
				out = append(out, s)
			}
			return out
		}
	}
	return expr
}

func list(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return []string{fmt.Sprint(v)}
}

// grants lists a role's permissions: action -> sorted resources, each
// followed by " if <condition JSON>" when the statement has a condition.
func grants(t *testing.T, role *iam.Role) map[string][]string {
	t.Helper()
	require.Empty(t, role.ManagedPolicyArns, "managed policies grant more than needed")
	out := map[string][]string{}
	for _, p := range role.Policies {
		doc, ok := p.PolicyDocument.(map[string]any)
		if !ok {
			continue // dropped by a condition
		}
		var statements []any
		switch s := doc["Statement"].(type) {
		case []any:
			statements = s
		case map[string]any:
			statements = []any{s}
		}
		require.NotEmpty(t, statements, "policy %s", p.PolicyName)
		for _, s := range statements {
			st := s.(map[string]any)
			require.Equal(t, "Allow", st["Effect"], "policy %s", p.PolicyName)
			for _, k := range []string{"NotAction", "NotResource", "NotPrincipal"} {
				require.NotContains(t, st, k, "policy %s", p.PolicyName)
			}
			suffix := ""
			if c, ok := st["Condition"]; ok {
				b, err := json.Marshal(c)
				require.NoError(t, err)
				suffix = " if " + string(b)
			}
			for _, a := range list(st["Action"]) {
				for _, r := range list(st["Resource"]) {
					out[a] = append(out[a], r+suffix)
				}
			}
		}
	}
	for a := range out {
		slices.Sort(out[a])
		out[a] = slices.Compact(out[a])
	}
	return out
}

// trusted returns the service a role's trust policy admits.
func trusted(t *testing.T, role *iam.Role) (string, map[string]any) {
	t.Helper()
	doc := role.AssumeRolePolicyDocument.(map[string]any)
	sts := doc["Statement"].([]any)
	require.Len(t, sts, 1)
	st := sts[0].(map[string]any)
	require.Equal(t, "sts:AssumeRole", st["Action"])
	cond, _ := st["Condition"].(map[string]any)
	return st["Principal"].(map[string]any)["Service"].(string), cond
}

// Resources named in the expected grants.
const (
	s3Bucket      = "arn:aws:s3:::" + bucket
	lakeObjects   = s3Bucket + "/lake/*"
	registry      = s3Bucket + "/lake/_ddblake/*"
	quarantine    = s3Bucket + "/lake/_errors/*"
	logGroup      = "getatt(FunctionLogGroup.Arn)"
	failureQueue  = "getatt(OnFailureQueue.Arn)"
	tableStreams  = "arn:aws:dynamodb:eu-west-1:123456789012:table/chat-messages/stream/*"
	streamsPrefix = "arn:aws:firehose:eu-west-1:123456789012:deliverystream/ddblake-*"
	listLake      = s3Bucket + ` if {"StringLike":{"s3:prefix":"lake/*"}}`
)

func withGrants(base map[string][]string, add map[string][]string, drop ...string) map[string][]string {
	out := map[string][]string{}
	for k, v := range base {
		out[k] = v
	}
	for _, k := range drop {
		delete(out, k)
	}
	for k, v := range add {
		out[k] = v
	}
	return out
}

// TestIAMMinimum lists the permissions of every role for each sink and
// source and checks that they are exactly the minimum each needs.
func TestIAMMinimum(t *testing.T) {
	glueRes := []string{
		"arn:aws:glue:eu-west-1:123456789012:catalog",
		"arn:aws:glue:eu-west-1:123456789012:database/ddblake",
		"arn:aws:glue:eu-west-1:123456789012:table/ddblake/*",
	}
	common := map[string][]string{
		// Logging, to this function's log group only.
		"logs:CreateLogStream": {logGroup},
		"logs:PutLogEvents":    {logGroup},
		// The event source mapping reads the stream.
		"dynamodb:DescribeStream":   {ddbStream},
		"dynamodb:GetRecords":       {ddbStream},
		"dynamodb:GetShardIterator": {ddbStream},
		"dynamodb:ListStreams":      {tableStreams},
		// Failed batches go to the on-failure queue.
		"sqs:SendMessage": {failureQueue},
		// The lake: the schema registry and the manifests (conditional
		// writes), the quarantine, the Parquet files (with the firehose
		// sink, those of rows Firehose may not convert whole yet).
		"s3:GetObject":            {lakeObjects},
		"s3:PutObject":            {lakeObjects},
		"s3:AbortMultipartUpload": {lakeObjects},
		"s3:ListBucket":           {listLake},
		// The catalog sync: the database's tables and views.
		"glue:GetTable":    glueRes,
		"glue:CreateTable": glueRes,
		"glue:UpdateTable": glueRes,
	}
	s3Sink := common
	firehoseSink := withGrants(common, map[string][]string{
		"firehose:PutRecordBatch": {streamsPrefix},
	})
	kinesis := map[string][]string{
		"kinesis:DescribeStream":        {kinStream},
		"kinesis:DescribeStreamSummary": {kinStream},
		"kinesis:GetRecords":            {kinStream},
		"kinesis:GetShardIterator":      {kinStream},
		"kinesis:ListShards":            {kinStream},
	}
	noDynamo := []string{"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"}
	delivery := map[string][]string{
		"s3:GetBucketLocation":          {s3Bucket},
		"s3:ListBucket":                 {s3Bucket},
		"s3:ListBucketMultipartUploads": {s3Bucket},
		"s3:AbortMultipartUpload":       {lakeObjects},
		"s3:GetObject":                  {lakeObjects},
		"s3:PutObject":                  {lakeObjects},
	}
	for _, a := range []string{"glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"} {
		delivery[a] = glueRes
	}

	maskKey := withGrants(s3Sink, map[string][]string{
		"s3:GetObject": {lakeObjects, "arn:aws:s3:::key-bucket/ddblake/mask.key"},
	})
	for _, tc := range []struct {
		name, sink, stream string
		function           map[string][]string
		delivery           map[string][]string // nil: no delivery role
		params             map[string]any
	}{
		{"s3 sink, DynamoDB stream", "s3", ddbStream, s3Sink, nil, nil},
		{"firehose sink, DynamoDB stream", "firehose", ddbStream, firehoseSink, delivery, nil},
		{"s3 sink, Kinesis stream", "s3", kinStream, withGrants(s3Sink, kinesis, noDynamo...), nil, nil},
		{"firehose sink, Kinesis stream", "firehose", kinStream, withGrants(firehoseSink, kinesis, noDynamo...), delivery, nil},
		{"mask key in S3", "s3", ddbStream, maskKey, nil, map[string]any{"MaskKeyObject": "key-bucket/ddblake/mask.key"}},
		{"no catalog sync", "s3", ddbStream, withGrants(s3Sink, nil, "glue:GetTable", "glue:CreateTable", "glue:UpdateTable"), nil,
			map[string]any{"CatalogSync": "false"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := loadWith(t, tc.sink, tc.stream, tc.params)
			roles := map[string]*iam.Role{}
			for name, r := range d.tmpl.Resources {
				if strings.HasPrefix(r.AWSCloudFormationType(), "AWS::IAM::") && d.present(t, name) {
					role, ok := r.(*iam.Role)
					require.True(t, ok, "%s: only roles with inline policies grant permissions", name)
					roles[name] = role
				}
			}
			want := map[string]map[string][]string{"FunctionRole": tc.function}
			if tc.delivery != nil {
				want["DeliveryRole"] = tc.delivery
			}
			require.Len(t, roles, len(want))
			for name, w := range want {
				require.Contains(t, roles, name)
				for _, res := range w {
					slices.Sort(res)
				}
				require.Equal(t, w, grants(t, roles[name]), "%s", name)
			}
			svc, cond := trusted(t, roles["FunctionRole"])
			require.Equal(t, "lambda.amazonaws.com", svc)
			require.Nil(t, cond)
			if tc.delivery != nil {
				svc, cond := trusted(t, roles["DeliveryRole"])
				require.Equal(t, "firehose.amazonaws.com", svc)
				require.Equal(t, map[string]any{"StringEquals": map[string]any{"sts:ExternalId": account}}, cond,
					"only this account's delivery streams may assume the role")
			}
		})
	}
}

// TestIAMNoWildcards checks every statement of every variant: no action
// wildcard (s3:*), no Resource "*" (the template needs none: every action
// it grants supports resource-level permissions), and a resource wildcard
// only as the last character, for a key prefix or a name pattern.
func TestIAMNoWildcards(t *testing.T) {
	for _, sink := range []string{"s3", "firehose"} {
		for _, stream := range []string{ddbStream, kinStream} {
			d := load(t, sink, stream)
			for name, r := range d.tmpl.GetAllIAMRoleResources() {
				if !d.present(t, name) {
					continue
				}
				for action, resources := range grants(t, r) {
					require.NotContains(t, action, "*", "%s: %s", name, action)
					for _, res := range resources {
						arn, _, _ := strings.Cut(res, " if ")
						require.NotEqual(t, "*", arn, "%s: %s", name, action)
						if i := strings.IndexByte(arn, '*'); i >= 0 {
							require.Equal(t, len(arn)-1, i, "%s: %s on %s: a wildcard only at the end", name, action, arn)
							require.Contains(t, "/-", string(arn[i-1]), "%s: %s on %s", name, action, arn)
						}
					}
				}
			}
		}
	}
}

func TestFunction(t *testing.T) {
	for _, sink := range []string{"s3", "firehose"} {
		t.Run(sink, func(t *testing.T) {
			d := load(t, sink, ddbStream)
			require.NotNil(t, d.tmpl.Transform)
			require.Equal(t, "AWS::Serverless-2016-10-31", *d.tmpl.Transform.String)

			fn, err := d.tmpl.GetServerlessFunctionWithName("Function")
			require.NoError(t, err)
			require.Equal(t, "provided.al2023", *fn.Runtime)
			require.Equal(t, []string{"arm64"}, fn.Architectures)
			require.Equal(t, "bootstrap", *fn.Handler)
			require.Equal(t, "../dist/ddblake-lambda.zip", *fn.CodeUri.String, "the built package, relative to the template")
			require.Equal(t, 1024, *fn.MemorySize)
			require.Equal(t, 120, *fn.Timeout)
			require.Equal(t, "getatt(FunctionRole.Arn)", *fn.Role, "its own role: SAM adds no managed policies")
			require.Nil(t, fn.Policies)
			require.Equal(t, stackName+"-ddblake", *fn.FunctionName)
			group, err := d.tmpl.GetLogsLogGroupWithName("FunctionLogGroup")
			require.NoError(t, err)
			require.Equal(t, "/aws/lambda/"+*fn.FunctionName, *group.LogGroupName, "the group Lambda logs to")

			env := fn.Environment.Variables
			require.Equal(t, "s3://"+bucket+"/lake", env["DDBLAKE_LAKE"])
			require.Equal(t, sink, env["DDBLAKE_SINK"])
			require.Contains(t, env, "DDBLAKE_CONFIG")
			require.Contains(t, env, "DDBLAKE_MASK_KEY", "the mask key, from the NoEcho parameter MaskKey")
			require.True(t, *d.tmpl.Parameters["MaskKey"].NoEcho, "the key is never shown by CloudFormation")
			require.Equal(t, "ref(GlueDatabase)", env["DDBLAKE_GLUE_DATABASE"], "the function keeps the catalog")
			require.Equal(t, "true", env["DDBLAKE_CATALOG_SYNC"])
			if sink == "s3" {
				require.Empty(t, env["DDBLAKE_FIREHOSE_STREAM"])
				return
			}
			// The function's stream template names the template's
			// delivery stream for the sample table.
			ds, err := d.tmpl.GetKinesisFirehoseDeliveryStreamWithName("DeliveryStream")
			require.NoError(t, err)
			name, err := firehose.StreamName(env["DDBLAKE_FIREHOSE_STREAM"], "chat_messages")
			require.NoError(t, err)
			require.Equal(t, *ds.DeliveryStreamName, name)
		})
	}
}

func TestEventSourceMapping(t *testing.T) {
	for _, stream := range []string{ddbStream, kinStream} {
		d := load(t, "s3", stream)
		m, err := d.tmpl.GetLambdaEventSourceMappingWithName("StreamMapping")
		require.NoError(t, err)
		require.Equal(t, stream, *m.EventSourceArn)
		require.Equal(t, "ref(Function)", m.FunctionName)
		require.Equal(t, "TRIM_HORIZON", *m.StartingPosition)
		require.Equal(t, 1000, *m.BatchSize)
		require.Equal(t, 10, *m.MaximumBatchingWindowInSeconds)
		require.True(t, *m.BisectBatchOnFunctionError)
		require.Equal(t, 10, *m.MaximumRetryAttempts)
		require.Equal(t, 86400, *m.MaximumRecordAgeInSeconds)
		require.Equal(t, []string{"ReportBatchItemFailures"}, m.FunctionResponseTypes)
		require.Equal(t, "getatt(OnFailureQueue.Arn)", *m.DestinationConfig.OnFailure.Destination)
		require.Nil(t, m.FilterCriteria, "every record reaches the function")
		q, err := d.tmpl.GetSQSQueueWithName("OnFailureQueue")
		require.NoError(t, err)
		require.Equal(t, 1209600, *q.MessageRetentionPeriod)
	}
}

func TestDeliveryStream(t *testing.T) {
	d := load(t, "s3", ddbStream)
	for _, name := range []string{"DeliveryStream", "DeliveryRole"} {
		require.False(t, d.present(t, name), "%s only with the firehose sink", name)
	}

	d = load(t, "firehose", ddbStream)
	require.True(t, d.present(t, "DeliveryStream"))
	ds, err := d.tmpl.GetKinesisFirehoseDeliveryStreamWithName("DeliveryStream")
	require.NoError(t, err)
	require.Equal(t, "DirectPut", *ds.DeliveryStreamType)
	s3 := ds.ExtendedS3DestinationConfiguration
	require.NotNil(t, s3)
	require.Equal(t, s3Bucket, s3.BucketARN)
	require.Equal(t, "getatt(DeliveryRole.Arn)", s3.RoleARN)
	require.Equal(t, "lake/chat_messages/dt=!{partitionKeyFromQuery:dt}/", *s3.Prefix)
	require.Equal(t, "lake/_errors/firehose/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/", *s3.ErrorOutputPrefix)
	require.Equal(t, 128, *s3.BufferingHints.SizeInMBs)
	require.Equal(t, 300, *s3.BufferingHints.IntervalInSeconds)
	require.Equal(t, "UNCOMPRESSED", *s3.CompressionFormat)

	conv := s3.DataFormatConversionConfiguration
	require.True(t, *conv.Enabled)
	require.NotNil(t, conv.InputFormatConfiguration.Deserializer.OpenXJsonSerDe)
	require.False(t, *conv.InputFormatConfiguration.Deserializer.OpenXJsonSerDe.CaseInsensitive, "map keys keep their case")
	require.Equal(t, "SNAPPY", *conv.OutputFormatConfiguration.Serializer.ParquetSerDe.Compression)
	sc := conv.SchemaConfiguration
	require.Equal(t, "ref(GlueDatabase)", *sc.DatabaseName)
	require.Equal(t, "chat_messages", *sc.TableName)
	require.Equal(t, "LATEST", *sc.VersionId)
	require.Equal(t, account, *sc.CatalogId)
	require.Equal(t, "getatt(DeliveryRole.Arn)", *sc.RoleARN)

	require.True(t, *s3.DynamicPartitioningConfiguration.Enabled)
	require.True(t, *s3.ProcessingConfiguration.Enabled)
	require.Len(t, s3.ProcessingConfiguration.Processors, 1)
	proc := s3.ProcessingConfiguration.Processors[0]
	require.Equal(t, "MetadataExtraction", proc.Type)
	params := map[string]string{}
	for _, p := range proc.Parameters {
		params[p.ParameterName] = p.ParameterValue
	}
	require.Equal(t, "JQ-1.6", params["JsonParsingEngine"])

	// The JQ query reads the partition field the sink writes in every
	// record, and the field holds what the Glue projection expects.
	q := regexp.MustCompile(`^\{(\w+):\.(\w+)\}$`).FindStringSubmatch(params["MetadataExtractionQuery"])
	require.NotNil(t, q, params["MetadataExtractionQuery"])
	require.Equal(t, q[1], q[2])
	require.Equal(t, schemas.PartitionDay, q[1])
	require.Contains(t, *s3.Prefix, "dt=!{partitionKeyFromQuery:"+q[1]+"}/")
	s := schemas.NewSchema("chat_messages")
	row := flatten.Row{Meta: flatten.Meta{EventName: "INSERT", EventTime: 1775046605123}}
	var rec map[string]any
	require.NoError(t, json.Unmarshal(firehose.EncodeRow(nil, s, &row, false), &rec))
	require.Equal(t, "2026-04-01", rec[q[2]])
}

func TestGlue(t *testing.T) {
	d := load(t, "s3", ddbStream)
	db, err := d.tmpl.GetGlueDatabaseWithName("GlueDatabase")
	require.NoError(t, err)
	require.Equal(t, account, db.CatalogId)
	require.Equal(t, "ddblake", *db.DatabaseInput.Name)

	// No table is defined here: one defined by hand (CREATE ... IF NOT
	// EXISTS, a template) would shadow the one the catalog sync keeps.
	for name, r := range d.tmpl.Resources {
		require.NotEqual(t, "AWS::Glue::Table", r.AWSCloudFormationType(), name)
	}

	// Firehose writes where the table the catalog sync creates reads,
	// converting with that table.
	d = load(t, "firehose", ddbStream)
	ds, err := d.tmpl.GetKinesisFirehoseDeliveryStreamWithName("DeliveryStream")
	require.NoError(t, err)
	s := schemas.NewSchema("chat_messages")
	in, err := gluedef.LakeTable(s, schemas.Options{Database: "ddblake", Location: "s3://" + bucket + "/lake"})
	require.NoError(t, err)
	conv := ds.ExtendedS3DestinationConfiguration.DataFormatConversionConfiguration.SchemaConfiguration
	require.Equal(t, in.Name, *conv.TableName)
	written := "s3://" + bucket + "/" + strings.ReplaceAll(*ds.ExtendedS3DestinationConfiguration.Prefix, "!{partitionKeyFromQuery:dt}", "${dt}")
	require.Equal(t, strings.Replace(in.Parameters["storage.location.template"], "/"+schemas.ManifestDir+"/", "/", 1), written,
		"the files land in the folders the manifests list them from")
}

// TestLambdaPackage: the zip make lambda builds is the file the template
// deploys.
func TestLambdaPackage(t *testing.T) {
	mk, err := os.ReadFile("../Makefile")
	require.NoError(t, err)
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^(\w+)\s*\?=\s*(\S+)$`).FindAllStringSubmatch(string(mk), -1) {
		vars[m[1]] = m[2]
	}
	zipRule := regexp.MustCompile(`lambdazip -o \$\(dir \$\(LAMBDA_DIR\)\)(\S+)`).FindStringSubmatch(string(mk))
	require.NotNil(t, zipRule, "make lambda runs scripts/lambdazip -o $(dir $(LAMBDA_DIR))NAME")
	zip := path.Join(path.Dir(vars["LAMBDA_DIR"]), zipRule[1])

	d := load(t, "s3", ddbStream)
	fn, err := d.tmpl.GetServerlessFunctionWithName("Function")
	require.NoError(t, err)
	require.Equal(t, zip, path.Join("deploy", *fn.CodeUri.String), "CodeUri, from the repository root")
}

func TestParametersHaveDescriptionsOrDefaults(t *testing.T) {
	d := load(t, "s3", ddbStream)
	for name, p := range d.tmpl.Parameters {
		if p.Default == nil {
			require.NotNil(t, p.Description, "required parameter %s says what to give", name)
		}
	}
	for _, name := range []string{"LakeBucket", "LakePrefix", "StreamArn", "Sink", "BatchSize", "BatchingWindowSeconds",
		"MaximumRetryAttempts", "MaximumRecordAgeSeconds", "MemorySize", "Timeout", "ConfigPath"} {
		require.Contains(t, d.tmpl.Parameters, name)
	}
	require.ElementsMatch(t, []any{"s3", "firehose"}, d.tmpl.Parameters["Sink"].AllowedValues)
	// The stream ARN pattern accepts both sources.
	re := regexp.MustCompile(*d.tmpl.Parameters["StreamArn"].AllowedPattern)
	require.True(t, re.MatchString(ddbStream))
	require.True(t, re.MatchString(kinStream))
	require.False(t, re.MatchString("arn:aws:sqs:eu-west-1:123456789012:queue"))
}

// TestDeliveredFilesRule: with the firehose sink, S3's events for the
// files Firehose delivers reach the function, which alone may be invoked
// by the rule; the rule's key pattern takes Firehose's files and leaves
// the function's own files and the manifests out (their writers list
// them), and every key it takes is one the function lists.
func TestDeliveredFilesRule(t *testing.T) {
	d := load(t, "s3", ddbStream)
	for _, name := range []string{"DeliveredFilesRule", "DeliveredFilesPermission"} {
		require.False(t, d.present(t, name), "%s only with the firehose sink", name)
	}

	d = load(t, "firehose", ddbStream)
	rule, err := d.tmpl.GetEventsRuleWithName("DeliveredFilesRule")
	require.NoError(t, err)
	require.Len(t, rule.Targets, 1)
	require.Equal(t, "getatt(Function.Arn)", rule.Targets[0].Arn)
	pattern, err := json.Marshal(rule.EventPattern)
	require.NoError(t, err)
	var p struct {
		Source     []string `json:"source"`
		DetailType []string `json:"detail-type"`
		Detail     struct {
			Bucket struct{ Name []string }                   `json:"bucket"`
			Object struct{ Key []struct{ Wildcard string } } `json:"object"`
		} `json:"detail"`
	}
	require.NoError(t, json.Unmarshal(pattern, &p))
	require.Equal(t, []string{"aws.s3"}, p.Source)
	require.Equal(t, []string{"Object Created"}, p.DetailType)
	require.Equal(t, []string{bucket}, p.Detail.Bucket.Name)
	require.Len(t, p.Detail.Object.Key, 1)
	wildcard := p.Detail.Object.Key[0].Wildcard
	require.NotEmpty(t, wildcard)

	perm, err := d.tmpl.GetLambdaPermissionWithName("DeliveredFilesPermission")
	require.NoError(t, err)
	require.Equal(t, "lambda:InvokeFunction", perm.Action)
	require.Equal(t, "events.amazonaws.com", perm.Principal)
	require.Equal(t, "getatt(DeliveredFilesRule.Arn)", *perm.SourceArn, "only this rule may invoke the function")
	require.Equal(t, "getatt(Function.Arn)", perm.FunctionName)

	fn, err := d.tmpl.GetServerlessFunctionWithName("Function")
	require.NoError(t, err)
	stream := fn.Environment.Variables["DDBLAKE_FIREHOSE_STREAM"]
	ds, err := d.tmpl.GetKinesisFirehoseDeliveryStreamWithName("DeliveryStream")
	require.NoError(t, err)
	// What Firehose writes: its prefix, then <stream>-<version>-<time>-<id> and the extension.
	folder := strings.ReplaceAll(*ds.ExtendedS3DestinationConfiguration.Prefix, "!{partitionKeyFromQuery:dt}", "2026-04-01")
	delivered := folder + *ds.DeliveryStreamName + "-1-2026-04-01-12-05-33-8b1d3f5e-2c4a-4f0e-9a57-1b9c3d5e7f90" +
		*ds.ExtendedS3DestinationConfiguration.FileExtension
	require.True(t, wildcardMatch(wildcard, delivered), "%s matches %s", wildcard, delivered)
	rel := strings.TrimPrefix(delivered, "lake/")
	_, _, ok := firehose.DeliveredFile(stream, rel)
	require.True(t, ok, "the function lists %s (stream %s)", rel, stream)
	for _, other := range []string{
		"lake/chat_messages/dt=2026-04-01/0123456789ab-shard-0000000001-0000000009-0000.parquet",
		"lake/chat_messages/" + schemas.ManifestDir + "/dt=2026-04-01/manifest",
		"lake/_ddblake/schemas/chat_messages.json",
		"other/chat_messages/dt=2026-04-01/ddblake-chat_messages-1-2026-04-01-12-05-33-8b1d3f5e.parquet",
	} {
		require.False(t, wildcardMatch(wildcard, other), "%s does not invoke the function", other)
	}
}

// wildcardMatch is EventBridge's wildcard matching: '*' stands for any
// run of characters, '/' included.
func wildcardMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i, part := range parts[1:] {
		if i == len(parts)-2 {
			return strings.HasSuffix(s, part)
		}
		j := strings.Index(s, part)
		if j < 0 {
			return false
		}
		s = s[j+len(part):]
	}
	return s == ""
}
