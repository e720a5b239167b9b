package deploy

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/intrinsics"
	"github.com/stretchr/testify/require"
)

const backfillPath = "backfill.yaml"

// Values the backfill template is evaluated with.
const (
	tableArn     = "arn:aws:dynamodb:eu-west-1:123456789012:table/chat-messages"
	exportBucket = "export-bucket"
	functionArn  = "arn:aws:lambda:eu-west-1:123456789012:function:ddblake-test-backfill"
)

// backfill is the backfill template evaluated for one set of parameters.
type backfill struct {
	tmpl *cloudformation.Template
	// definition is the state machine's definition with its
	// substitutions made, as Step Functions receives it (the function's
	// ARN given as a real one).
	definition []byte
	// subs are the substitutions as the template gives them.
	subs map[string]string
}

func loadBackfill(t *testing.T, more map[string]any) *backfill {
	t.Helper()
	params := map[string]any{"LakeBucket": bucket, "TableArn": tableArn, "ExportBucket": exportBucket}
	for k, v := range more {
		params[k] = v
	}
	tmpl, err := goformation.OpenWithOptions(backfillPath, &intrinsics.ProcessorOptions{
		ParameterOverrides: params,
		IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{
			"Ref":        refHandler,
			"Fn::GetAtt": getAttHandler,
			"Fn::Sub":    subHandler,
			"Fn::If":     ifHandler,
		},
	})
	require.NoError(t, err)
	sm, err := tmpl.GetStepFunctionsStateMachineWithName("BackfillStateMachine")
	require.NoError(t, err)
	b := &backfill{tmpl: tmpl, subs: map[string]string{}}
	for k, v := range sm.DefinitionSubstitutions {
		b.subs[k] = strings.TrimSpace(jsonText(t, v))
	}
	def, err := json.Marshal(sm.Definition)
	require.NoError(t, err)
	text := string(def)
	used := map[string]bool{}
	text = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`).ReplaceAllStringFunc(text, func(m string) string {
		name := m[2 : len(m)-1]
		v, ok := b.subs[name]
		require.True(t, ok, "the definition uses ${%s}, which DefinitionSubstitutions does not give", name)
		used[name] = true
		if name == "FunctionArn" {
			require.Equal(t, "getatt(BackfillFunction.Arn)", v)
			return functionArn
		}
		return v
	})
	for name := range b.subs {
		require.True(t, used[name], "substitution %s is not used", name)
	}
	b.definition = []byte(text)
	return b
}

// jsonText is v as substitution text: strings as they are, numbers in
// decimal.
func jsonText(t *testing.T, v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	out, err := json.Marshal(v)
	require.NoError(t, err)
	return string(out)
}

// state returns a state of the definition by its path of names (a state
// inside a Map's ItemProcessor after the Map's name).
func (b *backfill) state(t *testing.T, names ...string) map[string]any {
	t.Helper()
	var def map[string]any
	require.NoError(t, json.Unmarshal(b.definition, &def))
	states := def["States"].(map[string]any)
	var st map[string]any
	for i, name := range names {
		var ok bool
		st, ok = states[name].(map[string]any)
		require.True(t, ok, "state %s", strings.Join(names[:i+1], "/"))
		if proc, ok := st["ItemProcessor"].(map[string]any); ok {
			states, _ = proc["States"].(map[string]any)
		}
	}
	return st
}

// aslValidator returns the command that runs asl-validator, or skips the
// test when Node.js is not installed.
func aslValidator(t *testing.T) []string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found: the state machine is checked with the asl-validator npm package, which needs Node.js (`make tools` installs the package when npm is there)")
	}
	bin := os.Getenv("DDBLAKE_ASL_VALIDATOR")
	if bin == "" {
		bin = filepath.Join("..", ".ci", "tools", "node_modules", "asl-validator", "dist", "bin", "asl-validator.js")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("asl-validator is not installed (%v): run `make tools` (npm ci --prefix .ci/tools)", err)
	}
	return []string{node, bin}
}

// validate runs asl-validator on each definition, all at once (Node.js
// takes seconds to start), and returns the verdicts and outputs.
func validate(t *testing.T, cmd []string, definitions ...[]byte) ([]bool, []string) {
	t.Helper()
	dir := t.TempDir()
	ok, out := make([]bool, len(definitions)), make([]string, len(definitions))
	errs := make([]error, len(definitions))
	var wg sync.WaitGroup
	for i, def := range definitions {
		path := filepath.Join(dir, fmt.Sprintf("definition-%d.json", i))
		require.NoError(t, os.WriteFile(path, def, 0o644))
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := exec.Command(cmd[0], append(cmd[1:], "--json-path", path)...).CombinedOutput()
			out[i] = string(b)
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) {
				errs[i] = err
			}
			ok[i] = err == nil
		}()
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "running asl-validator: %s", out[i])
	}
	return ok, out
}

// TestBackfillDefinitionValid checks the state machine with the Amazon
// States Language validator, and that the validator refuses broken
// copies of it (so that its verdict means something).
func TestBackfillDefinitionValid(t *testing.T) {
	cmd := aslValidator(t)
	b := loadBackfill(t, nil)
	broken := map[string]string{
		"an unknown next state": strings.Replace(string(b.definition), `"Next":"Finish"`, `"Next":"Finnish"`, 1),
		"a bad map field":       strings.Replace(string(b.definition), `"ToleratedFailurePercentage":0`, `"ToleratedFailurePercentage":"none"`, 1),
	}
	names := []string{"the definition"}
	defs := [][]byte{b.definition}
	for name, def := range broken {
		require.NotEqual(t, string(b.definition), def, name)
		names = append(names, name)
		defs = append(defs, []byte(def))
	}
	ok, out := validate(t, cmd, defs...)
	require.True(t, ok[0], "asl-validator refuses the backfill state machine:\n%s\n%s", out[0], b.definition)
	for i := 1; i < len(ok); i++ {
		require.False(t, ok[i], "asl-validator accepts a definition with %s", names[i])
	}
}

// TestBackfillMap checks what the backfill relies on: the Map reads the
// export's manifest-files.json as JSON lines, in batches of FilesPerBatch
// handed the export and the lake, at most MaxConcurrency at once, with no
// failure tolerated; the function's errors are retried with backoff,
// except a batch it refuses; its result goes to Finish.
func TestBackfillMap(t *testing.T) {
	b := loadBackfill(t, map[string]any{"FilesPerBatch": 3, "MaxConcurrency": 250})

	settings := b.state(t, "Settings")["Parameters"].(map[string]any)
	require.Equal(t, "States.StringToJson('3')", settings["filesPerBatch.$"])
	require.Equal(t, "States.StringToJson('250')", settings["maxConcurrency.$"])
	require.Equal(t, "s3://"+bucket+"/lake", settings["lake"])

	m := b.state(t, "Backfill")
	require.Equal(t, "Map", m["Type"])
	reader := m["ItemReader"].(map[string]any)
	require.Equal(t, "arn:aws:states:::s3:getObject", reader["Resource"])
	require.Equal(t, map[string]any{"InputType": "JSONL"}, reader["ReaderConfig"])
	require.Equal(t, map[string]any{"Bucket.$": "$.plan.bucket", "Key.$": "$.plan.filesKey"}, reader["Parameters"])
	batcher := m["ItemBatcher"].(map[string]any)
	require.Equal(t, "$.settings.filesPerBatch", batcher["MaxItemsPerBatchPath"])
	require.Equal(t, map[string]any{"export.$": "$.plan.export", "lake.$": "$.settings.lake"}, batcher["BatchInput"])
	require.Equal(t, "$.settings.maxConcurrency", m["MaxConcurrencyPath"])
	require.EqualValues(t, 0, m["ToleratedFailurePercentage"])
	require.Equal(t, map[string]any{"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
		m["ItemProcessor"].(map[string]any)["ProcessorConfig"])
	require.Equal(t, "Finish", m["Next"])
	require.Equal(t, map[string]any{"Bucket": bucket, "Prefix": "lake/_ddblake/backfill/runs"},
		m["ResultWriter"].(map[string]any)["Parameters"])

	for _, path := range [][]string{{"Plan"}, {"Backfill", "WriteFiles"}, {"Finish"}} {
		st := b.state(t, path...)
		require.Equal(t, "arn:aws:states:::lambda:invoke", st["Resource"], "%v", path)
		require.Equal(t, functionArn, st["Parameters"].(map[string]any)["FunctionName"], "%v", path)
		retries := st["Retry"].([]any)
		require.GreaterOrEqual(t, len(retries), 3, "%v", path)
		first := retries[0].(map[string]any)
		require.Equal(t, []any{"BadBatch", "CountMismatch"}, first["ErrorEquals"], "%v: a request the function refuses, counts that do not add up, are not retried", path)
		require.EqualValues(t, 0, first["MaxAttempts"], "%v", path)
		throttled := false
		for _, r := range retries[1:] {
			r := r.(map[string]any)
			require.Greater(t, r["MaxAttempts"], float64(0), "%v", path)
			require.Greater(t, r["BackoffRate"], float64(1), "%v: backoff", path)
			require.Equal(t, "FULL", r["JitterStrategy"], "%v", path)
			if slices.Contains(r["ErrorEquals"].([]any), "Lambda.TooManyRequestsException") {
				throttled = true
			}
		}
		require.True(t, throttled, "%v: throttling is retried", path)
		last := retries[len(retries)-1].(map[string]any)
		require.Equal(t, []any{"States.ALL"}, last["ErrorEquals"], "%v: every other failure (deadline, crash) is retried", path)
	}
	write := b.state(t, "Backfill", "WriteFiles")
	require.Equal(t, "$", write["Parameters"].(map[string]any)["Payload.$"], "the function gets the batch as Step Functions makes it")
	finish := b.state(t, "Finish")
	require.Equal(t, map[string]any{"finish": map[string]any{"export.$": "$.plan.export", "lake.$": "$.settings.lake"}},
		finish["Parameters"].(map[string]any)["Payload"])
	require.Equal(t, true, finish["End"])

	// Every way in reaches Plan: an export given, an export ARN, a new
	// export now or at a time.
	choices := b.state(t, "WhichExport")["Choices"].([]any)
	var nexts []string
	for _, c := range choices {
		nexts = append(nexts, c.(map[string]any)["Next"].(string))
	}
	require.Equal(t, []string{"Plan", "DescribeExport", "ExportAtTime"}, nexts)
	require.Equal(t, "ExportNow", b.state(t, "WhichExport")["Default"])
	for _, name := range []string{"ExportNow", "ExportAtTime"} {
		p := b.state(t, name)["Parameters"].(map[string]any)
		require.Equal(t, tableArn, p["TableArn"])
		require.Equal(t, exportBucket, p["S3Bucket"])
		require.Equal(t, "exports", p["S3Prefix"])
		require.Equal(t, "DYNAMODB_JSON", p["ExportFormat"])
		require.Equal(t, "$$.Execution.Name", p["ClientToken.$"], "a retried start does not export twice")
	}
	require.Equal(t, "States.Format('s3://{}/{}', $.described.bucket, $.described.manifest)",
		b.state(t, "ExportLocated")["Parameters"].(map[string]any)["export.$"])
}

// TestBackfillIAM lists the permissions of both roles and checks that
// they are exactly the minimum each needs.
func TestBackfillIAM(t *testing.T) {
	chatTables := []string{
		"arn:aws:glue:" + region + ":" + account + ":catalog",
		"arn:aws:glue:" + region + ":" + account + ":database/chat",
		"arn:aws:glue:" + region + ":" + account + ":table/chat/*",
	}
	exports := "arn:aws:s3:::" + exportBucket + "/exports/*"
	listLake := s3Bucket + ` if {"StringLike":{"s3:prefix":"lake/*"}}`
	for _, tc := range []struct {
		name     string
		params   map[string]any
		function map[string][]string
	}{
		{name: "defaults", function: map[string][]string{
			"logs:CreateLogStream":    {"getatt(BackfillLogGroup.Arn)"},
			"logs:PutLogEvents":       {"getatt(BackfillLogGroup.Arn)"},
			"s3:GetObject":            {exports, lakeObjects},
			"s3:PutObject":            {lakeObjects},
			"s3:AbortMultipartUpload": {lakeObjects},
			"s3:ListBucket":           {listLake},
		}},
		{name: "mask key object", params: map[string]any{"MaskKeyObject": "key-bucket/ddblake/mask.key"}, function: map[string][]string{
			"logs:CreateLogStream":    {"getatt(BackfillLogGroup.Arn)"},
			"logs:PutLogEvents":       {"getatt(BackfillLogGroup.Arn)"},
			"s3:GetObject":            {exports, "arn:aws:s3:::key-bucket/ddblake/mask.key", lakeObjects},
			"s3:PutObject":            {lakeObjects},
			"s3:AbortMultipartUpload": {lakeObjects},
			"s3:ListBucket":           {listLake},
		}},
		// With a Glue database, map batches keep its tables in step as
		// they add columns: the database's tables, nothing else.
		{name: "catalog sync", params: map[string]any{"GlueDatabaseName": "chat"}, function: map[string][]string{
			"logs:CreateLogStream":    {"getatt(BackfillLogGroup.Arn)"},
			"logs:PutLogEvents":       {"getatt(BackfillLogGroup.Arn)"},
			"s3:GetObject":            {exports, lakeObjects},
			"s3:PutObject":            {lakeObjects},
			"s3:AbortMultipartUpload": {lakeObjects},
			"s3:ListBucket":           {listLake},
			"glue:GetTable":           chatTables,
			"glue:CreateTable":        chatTables,
			"glue:UpdateTable":        chatTables,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := loadBackfill(t, tc.params)
			role, err := b.tmpl.GetIAMRoleWithName("BackfillFunctionRole")
			require.NoError(t, err)
			svc, _ := trusted(t, role)
			require.Equal(t, "lambda.amazonaws.com", svc)
			for k := range tc.function {
				slices.Sort(tc.function[k])
			}
			require.Equal(t, tc.function, grants(t, role))

			role, err = b.tmpl.GetIAMRoleWithName("StateMachineRole")
			require.NoError(t, err)
			svc, cond := trusted(t, role)
			require.Equal(t, "states.amazonaws.com", svc)
			require.Equal(t, map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": account}}, cond)
			machine := "arn:aws:states:eu-west-1:123456789012:stateMachine:" + stackName + "-backfill"
			require.Equal(t, map[string][]string{
				"lambda:InvokeFunction":             {"getatt(BackfillFunction.Arn)"},
				"dynamodb:ExportTableToPointInTime": {tableArn},
				"dynamodb:DescribeExport":           {tableArn + "/export/*"},
				"s3:GetObject":                      {exports},
				"s3:PutObject":                      {exports, s3Bucket + "/lake/_ddblake/backfill/runs/*"},
				"s3:PutObjectAcl":                   {exports},
				"s3:AbortMultipartUpload":           {exports, s3Bucket + "/lake/_ddblake/backfill/runs/*"},
				"states:StartExecution":             {machine},
				"states:DescribeExecution":          {"arn:aws:states:eu-west-1:123456789012:execution:" + stackName + "-backfill:*"},
				"states:StopExecution":              {"arn:aws:states:eu-west-1:123456789012:execution:" + stackName + "-backfill:*"},
			}, grants(t, role))
		})
	}
}

// TestBackfillFunction checks the function the state machine invokes: the
// stream function's package and settings, the whole 15 minutes, and a
// deadline margin long enough to give up cleanly.
func TestBackfillFunction(t *testing.T) {
	b := loadBackfill(t, map[string]any{"ConfigPath": "ddblake.yaml", "MemorySize": 4096})
	fn, err := b.tmpl.GetServerlessFunctionWithName("BackfillFunction")
	require.NoError(t, err)
	require.Equal(t, "provided.al2023", *fn.Runtime)
	require.Equal(t, []string{"arm64"}, fn.Architectures)
	require.Equal(t, 900, *fn.Timeout)
	require.Equal(t, 4096, *fn.MemorySize)
	// The zip make lambda builds, as the stream template deploys.
	require.Equal(t, "../dist/ddblake-lambda.zip", *fn.CodeUri.String)
	env := fn.Environment.Variables
	require.Equal(t, "s3://"+bucket+"/lake", env["DDBLAKE_LAKE"])
	require.Equal(t, "ddblake.yaml", env["DDBLAKE_CONFIG"])
	require.Equal(t, "60s", env["DDBLAKE_DEADLINE_MARGIN"])
	sm, err := b.tmpl.GetStepFunctionsStateMachineWithName("BackfillStateMachine")
	require.NoError(t, err)
	require.Equal(t, "STANDARD", *sm.StateMachineType)
	require.Equal(t, stackName+"-backfill", *sm.StateMachineName, "the name its role's StartExecution grant names")
}
