"""The scale-out state machine of cloudformation/template.yaml (ExportStateMachine, ScaleOutWorkers > 1):
its definition, rendered as CloudFormation would render the Fn::Sub for ScaleOutWorkers=8 and
ScaleOutMaxConcurrency=25, has the shape docs/SCALING.md describes:

  Input (Choice: "hour" or "time") -> PlanHour | CatchUp (Task, "time" only: its result dropped, its
  failure caught) -> PlanScheduledHour (Pass: the plan payload) -> Plan
  -> AlreadyExported (Choice on $.complete: Succeed) -> Work (Distributed Map over $.units) -> ListClients
  -> Merge (Distributed Map, ItemReader s3:getObject of the client list) -> Finish -> end,

every Lambda task invoking the exporter with the stage payloads of the function's contract, with the
same retriers (no retry for InvalidEvent/Undeliverable, exponential backoff for Lambda's transient
errors, then 3 retries of any function error), every failure caught into a Fail state but CatchUp's,
which goes on to PlanScheduledHour. The paths the
definition reads resolve in the contract's sample responses. Also the resources around it: logging,
the staging lifecycle rule, the alarm, the output.

Offline: reads the template with cfn_template's loader (Debian's /usr/bin/python3). The definition is
executed on moto's Step Functions interpreter by scale_out_moto_test.py. Exit 0 = pass.
"""
import json
import sys

import cfn_template as cfn

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


WORKERS, CONCURRENCY = 8, 25
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:eaglesense-exporter"
LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
# The function's stage contract (the samples its implementation returns).
PLAN_RESPONSE = {"hour": "2026-11-29T10", "complete": False, "leased": False, "workers": WORKERS,
                 "plan_key": "staging/2026-11-29T10/plan.json",
                 "units": [{"stage": "work", "hour": "2026-11-29T10", "unit": i} for i in range(WORKERS)]}
LIST_CLIENTS_RESPONSE = {"hour": "2026-11-29T10", "clients": 2, "items_bucket": "acme-events-ops",
                         "items_key": "staging/2026-11-29T10/_clients.json"}
SCHEDULED_EVENT = {"version": "0", "id": "x", "detail-type": "Scheduled Event", "source": "aws.events",
                   "account": "123456789012", "time": "2026-11-29T11:05:00Z", "region": "us-east-1",
                   "resources": [], "detail": {}}

EXPECTED_STATES = {
    "Input": "Choice", "PlanHour": "Pass", "CatchUp": "Task", "PlanScheduledHour": "Pass", "Plan": "Task",
    "AlreadyExported": "Choice", "HourAlreadyExported": "Succeed", "HourLeased": "Succeed", "Work": "Map", "ListClients": "Task",
    "Merge": "Map", "Finish": "Task", "InvalidInput": "Fail", "PlanFailed": "Fail", "WorkFailed": "Fail",
    "ListClientsFailed": "Fail", "MergeFailed": "Fail", "FinishFailed": "Fail",
}


MISSING = object()


def path(document, json_path):
    """Resolves a plain JSONPath of member names ("$", "$.a.b") in document (a failure if it does not)."""
    check(json_path == "$" or json_path.startswith("$."), f"not a plain JSONPath: {json_path!r}")
    node = document
    for part in json_path.split(".")[1:]:
        if not isinstance(node, dict) or part not in node:
            failures.append(f"{json_path} does not resolve in {json.dumps(document)[:200]}")
            return MISSING
        node = node[part]
    return node


# The context object's part the definition reads ("$$.Execution.Name": the plan's run id, which holds the
# hour's lease).
CONTEXT = {"Execution": {"Name": "exec-1"}}


def parameters(params, state_input):
    """Step Functions' Parameters: a "key.$" member takes the value at its path in the input ("$$." paths:
    in the context object)."""
    out = {}
    for k, v in params.items():
        if k.endswith(".$") and v.startswith("$$."):
            out[k[:-2]] = path(CONTEXT, v[1:])
        elif k.endswith(".$"):
            out[k[:-2]] = path(state_input, v)
        elif isinstance(v, dict):
            out[k] = parameters(v, state_input)
        else:
            out[k] = v
    return out


def check_retry(name, retry):
    check(isinstance(retry, list) and len(retry) == 3, f"{name}: retriers {retry}")
    if not isinstance(retry, list) or len(retry) != 3:
        return
    never, transient, function_errors = retry
    check(never == {"ErrorEquals": ["InvalidEvent", "Undeliverable"], "MaxAttempts": 0},
          f"{name}: first retrier must never retry InvalidEvent/Undeliverable: {never}")
    check(set(transient["ErrorEquals"]) == {"Lambda.ServiceException", "Lambda.AWSLambdaException",
                                            "Lambda.SdkClientException", "Lambda.TooManyRequestsException"},
          f"{name}: Lambda's transient errors {transient['ErrorEquals']}")
    check(transient.get("BackoffRate", 1) > 1 and transient.get("IntervalSeconds", 0) >= 1
          and transient.get("MaxAttempts", 0) >= 6 and transient.get("MaxDelaySeconds", 0) > 0
          and transient.get("JitterStrategy") == "FULL",
          f"{name}: Lambda's transient errors need capped exponential backoff with jitter: {transient}")
    check(function_errors == {"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 2, "BackoffRate": 2,
                              "MaxAttempts": 3, "JitterStrategy": "FULL"},
          f"{name}: function errors retrier {function_errors}")


def check_lambda_task(name, state, payload=None):
    """A Task invoking the exporter (unqualified ARN) with payload (None: the state's input)."""
    check(state.get("Type") == "Task" and state.get("Resource") == LAMBDA_INVOKE,
          f"{name}: not a lambda:invoke task: {state.get('Type')} {state.get('Resource')}")
    params = state.get("Parameters", {})
    check(params.get("FunctionName") == FUNCTION_ARN, f"{name}: FunctionName {params.get('FunctionName')}")
    if payload is None:
        check(params.get("Payload.$") == "$" and "Payload" not in params,
              f"{name}: the payload must be the state's input: {params}")
    else:
        check(params.get("Payload") == payload, f"{name}: payload {params.get('Payload')}, expected {payload}")
    check(set(params) <= {"FunctionName", "Payload", "Payload.$"}, f"{name}: parameters {sorted(params)}")
    check_retry(name, state.get("Retry"))


def check_caught(name, state, fail_state):
    check(state.get("Catch") == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": fail_state}],
          f"{name}: must catch everything into {fail_state}: {state.get('Catch')}")


def check_distributed_map(name, state, processor_start):
    check(state.get("Type") == "Map", f"{name}: type {state.get('Type')}")
    processor = state.get("ItemProcessor", {})
    check(processor.get("ProcessorConfig") == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
          f"{name}: processor config {processor.get('ProcessorConfig')}")
    check(processor.get("StartAt") == processor_start, f"{name}: item processor starts at {processor.get('StartAt')}")
    check(state.get("MaxConcurrency") == CONCURRENCY and isinstance(state.get("MaxConcurrency"), int),
          f"{name}: MaxConcurrency {state.get('MaxConcurrency')!r}, expected the number {CONCURRENCY}")
    check(state.get("ToleratedFailurePercentage") == 0,
          f"{name}: ToleratedFailurePercentage {state.get('ToleratedFailurePercentage')}")
    check("ResultPath" in state and state["ResultPath"] is None,
          f"{name}: ResultPath must be null (the items' results must not grow the state): "
          f"{state.get('ResultPath', 'absent')}")
    check("ResultWriter" not in state and "Iterator" not in state and "Parameters" not in state,
          f"{name}: unexpected members {sorted(state)}")
    return processor.get("States", {})


def check_graph(definition):
    """Every transition names a state; every state is reachable; ends are explicit."""
    def transitions(state):
        out = [state.get("Next"), state.get("Default")]
        out += [c.get("Next") for c in state.get("Choices", [])]
        out += [c.get("Next") for c in state.get("Catch", [])]
        return [t for t in out if t]

    def walk(machine, where):
        states = machine["States"]
        seen, todo = set(), [machine["StartAt"]]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            check(name in states, f"{where}: transition to a missing state {name}")
            if name not in states:
                continue
            seen.add(name)
            state = states[name]
            check(not (state.get("End") and state.get("Next")), f"{where}{name}: both End and Next")
            terminal = state["Type"] in ("Succeed", "Fail") or (state["Type"] != "Choice" and state.get("End"))
            check(terminal or transitions(state), f"{where}{name}: goes nowhere")
            todo += transitions(state)
            if "ItemProcessor" in state:
                walk(state["ItemProcessor"], f"{where}{name}/")
        check(seen == set(states), f"{where}: unreachable states {sorted(set(states) - seen)}")
    walk(definition, "")


def check_definition(definition):
    states = definition.get("States", {})
    check(definition.get("StartAt") == "Input", f"StartAt {definition.get('StartAt')}")
    check({k: s.get("Type") for k, s in states.items()} == EXPECTED_STATES,
          f"states {sorted((k, s.get('Type')) for k, s in states.items())}")
    if set(states) != set(EXPECTED_STATES):
        return
    check_graph(definition)

    # Input: an "hour" wins over "time" (a scheduled event has no "hour"); neither is refused.
    inp = states["Input"]
    check(inp["Choices"] == [{"Variable": "$.hour", "IsPresent": True, "Next": "PlanHour"},
                             {"Variable": "$.time", "IsPresent": True, "Next": "CatchUp"}]
          and inp["Default"] == "InvalidInput", f"Input choices {inp}")

    # CatchUp: a scheduled execution first hands the catch-up window's missed hours to executions of
    # their own. Its result is dropped (ResultPath null: the scheduled event goes on unchanged) and any
    # failure, retries spent, is recorded beside the event and the scheduled hour is planned anyway.
    catch_up = states["CatchUp"]
    check_lambda_task("CatchUp", catch_up, {"stage": "catch-up", "time.$": "$.time"})
    check(parameters(catch_up["Parameters"], SCHEDULED_EVENT)["Payload"]
          == {"stage": "catch-up", "time": "2026-11-29T11:05:00Z"}, "CatchUp's payload from the scheduled event")
    check("ResultPath" in catch_up and catch_up["ResultPath"] is None and "OutputPath" not in catch_up
          and "ResultSelector" not in catch_up,
          f"CatchUp: the result must be dropped (ResultPath null, no OutputPath): {catch_up}")
    check(catch_up.get("Catch") == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.catch_up_error",
                                     "Next": "PlanScheduledHour"}],
          f"CatchUp: a failure must go on to PlanScheduledHour: {catch_up.get('Catch')}")
    check(catch_up.get("Next") == "PlanScheduledHour", f"CatchUp -> {catch_up.get('Next')}")
    into_catch_up = sorted(n for n, st in states.items() for c in [st] + st.get("Choices", []) + st.get("Catch", [])
                           if n != "CatchUp" and (c.get("Next") == "CatchUp" or c.get("Default") == "CatchUp"))
    check(into_catch_up == ["Input"], f"only Input's \"time\" choice may lead to CatchUp: {into_catch_up}")
    after_failure = {**SCHEDULED_EVENT, "catch_up_error": {"Error": "HourFailed", "Cause": "x"}}
    check(parameters(states["PlanScheduledHour"]["Parameters"], after_failure)
          == parameters(states["PlanScheduledHour"]["Parameters"], SCHEDULED_EVENT),
          "PlanScheduledHour's payload must not change when CatchUp failed")
    check(parameters(states["PlanHour"]["Parameters"], {"hour": "2026-11-29T10"})
          == {"stage": "plan", "hour": "2026-11-29T10", "workers": WORKERS, "run_id": "exec-1"},
          f"PlanHour payload {states['PlanHour']['Parameters']}")
    check(parameters(states["PlanScheduledHour"]["Parameters"], SCHEDULED_EVENT)
          == {"stage": "plan", "time": "2026-11-29T11:05:00Z", "workers": WORKERS, "run_id": "exec-1"},
          f"PlanScheduledHour payload {states['PlanScheduledHour']['Parameters']}")
    check(isinstance(states["PlanHour"]["Parameters"]["workers"], int), "workers must be a JSON number")
    for name in ("PlanHour", "PlanScheduledHour"):
        check(states[name].get("Next") == "Plan", f"{name} -> {states[name].get('Next')}")

    plan = states["Plan"]
    check_lambda_task("Plan", plan)
    check(plan.get("OutputPath") == "$.Payload", f"Plan must unwrap the function's result: {plan.get('OutputPath')}")
    check_caught("Plan", plan, "PlanFailed")
    check(plan.get("Next") == "AlreadyExported", f"Plan -> {plan.get('Next')}")

    done = states["AlreadyExported"]
    check(done["Choices"] == [{"Variable": "$.complete", "BooleanEquals": True, "Next": "HourAlreadyExported"},
                              {"Variable": "$.leased", "BooleanEquals": True, "Next": "HourLeased"}]
          and done["Default"] == "Work", f"AlreadyExported {done}")
    path(PLAN_RESPONSE, "$.complete")
    path(PLAN_RESPONSE, "$.leased")

    work = states["Work"]
    inner = check_distributed_map("Work", work, "ExportUnit")
    check(work.get("ItemsPath") == "$.units" and "ItemReader" not in work, f"Work items: {work.get('ItemsPath')}")
    check(path(PLAN_RESPONSE, work["ItemsPath"]) == PLAN_RESPONSE["units"], "Work's ItemsPath is not the plan's units")
    check(set(inner) == {"ExportUnit"}, f"Work's item states {sorted(inner)}")
    unit = inner.get("ExportUnit", {})
    check_lambda_task("Work/ExportUnit", unit)
    check("OutputPath" in unit and unit["OutputPath"] is None and unit.get("End") is True,
          f"Work/ExportUnit: must end with an empty output (OutputPath null): {unit}")
    check_caught("Work", work, "WorkFailed")
    check(work.get("Next") == "ListClients", f"Work -> {work.get('Next')}")

    lc = states["ListClients"]
    check_lambda_task("ListClients", lc, {"stage": "list-clients", "hour.$": "$.hour"})
    # Work's ResultPath null leaves the plan's response as ListClients' input.
    check(parameters(lc["Parameters"], PLAN_RESPONSE)["Payload"] == {"stage": "list-clients", "hour": "2026-11-29T10"},
          "ListClients' payload from the plan")
    check(lc.get("OutputPath") == "$.Payload", f"ListClients output {lc.get('OutputPath')}")
    check_caught("ListClients", lc, "ListClientsFailed")
    check(lc.get("Next") == "Merge", f"ListClients -> {lc.get('Next')}")

    merge = states["Merge"]
    inner = check_distributed_map("Merge", merge, "MergeClient")
    reader = merge.get("ItemReader", {})
    check(reader.get("Resource") == "arn:aws:states:::s3:getObject"
          and reader.get("ReaderConfig") == {"InputType": "JSON"}
          and reader.get("Parameters") == {"Bucket.$": "$.items_bucket", "Key.$": "$.items_key"},
          f"Merge's ItemReader {reader}")
    check("ItemsPath" not in merge, "Merge reads its items from S3, not the state")
    check(parameters(reader.get("Parameters", {}), LIST_CLIENTS_RESPONSE)
          == {"Bucket": "acme-events-ops", "Key": "staging/2026-11-29T10/_clients.json"},
          "Merge's ItemReader from the list-clients response")
    check(set(inner) == {"MergeClient", "ClientSetAside"}, f"Merge's item states {sorted(inner)}")
    mc = inner.get("MergeClient", {})
    check_lambda_task("Merge/MergeClient", mc)
    check("OutputPath" in mc and mc["OutputPath"] is None and mc.get("End") is True,
          f"Merge/MergeClient: must end with an empty output (OutputPath null): {mc}")
    check(mc.get("Catch") == [{"ErrorEquals": ["Undeliverable"], "ResultPath": None, "Next": "ClientSetAside"}],
          f"Merge/MergeClient: an Undeliverable client (set aside, as in a single-function run) must not fail "
          f"the hour: {mc.get('Catch')}")
    check(inner.get("ClientSetAside", {}).get("Type") == "Succeed", "ClientSetAside must succeed")
    check_caught("Merge", merge, "MergeFailed")
    check(merge.get("Next") == "Finish", f"Merge -> {merge.get('Next')}")
    # Merge's ResultPath null leaves the list-clients response as Finish's input.
    fin = states["Finish"]
    check_lambda_task("Finish", fin, {"stage": "finish", "hour.$": "$.hour"})
    check(parameters(fin["Parameters"], LIST_CLIENTS_RESPONSE)["Payload"]
          == {"stage": "finish", "hour": "2026-11-29T10"},
          "Finish's payload from the list-clients response")
    check(fin.get("OutputPath") == "$.Payload" and fin.get("End") is True, f"Finish {fin}")
    check_caught("Finish", fin, "FinishFailed")

    for stage in ("Plan", "Work", "ListClients", "Merge", "Finish"):
        fail = states[f"{stage}Failed"]
        check(fail == {"Type": "Fail", "Error": f"EagleSense.{stage}Failed",
                       "CausePath": "States.Format('{}: {}', $.error.Error, $.error.Cause)"},
              f"{stage}Failed: {fail}")
    check(states["InvalidInput"].get("Error") == "EagleSense.InvalidInput" and states["InvalidInput"].get("Cause"),
          f"InvalidInput {states['InvalidInput']}")


def check_resources():
    template = cfn.load()
    params = cfn.parameter_values(template, {"ArtifactBucket": "artifacts", "ArtifactKey": "k.zip",
                                             "BucketPrefix": "acme-events", "ScaleOutWorkers": WORKERS,
                                             "ScaleOutMaxConcurrency": CONCURRENCY})
    resources = cfn.active_resources(template, params)
    sm = resources["ExportStateMachine"]["Properties"]
    check(sm.get("StateMachineType") == "STANDARD", f"state machine type {sm.get('StateMachineType')}")
    check("Definition" not in sm and "DefinitionSubstitutions" not in sm and "DefinitionS3Location" not in sm,
          "the definition must be DefinitionString only (substitutions there turn numbers into strings)")
    logging = sm.get("LoggingConfiguration", {})
    check(logging.get("Level") in ("ERROR", "ALL") and logging.get("Destinations") ==
          [{"CloudWatchLogsLogGroup": {"LogGroupArn": {"Fn::GetAtt": ["StateMachineLogGroup", "Arn"]}}}],
          f"state machine logging {logging}")
    group = resources["StateMachineLogGroup"]["Properties"]
    check(group["LogGroupName"] == {"Fn::Sub": "/aws/vendedlogs/states/${AWS::StackName}-export"}
          and group["RetentionInDays"] == {"Ref": "LogRetentionDays"}, f"state machine log group {group}")

    rules = resources["OpsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    staging = [r for r in rules if r.get("Prefix") == "staging/"]
    check(len(staging) == 1 and staging[0]["Status"] == "Enabled"
          and staging[0].get("NoncurrentVersionExpiration") == {"NoncurrentDays": 1}
          and staging[0].get("ExpirationInDays", 0) >= 2,
          f"ops bucket: staging/ lifecycle rule {staging}")
    default = cfn.active_resources(template, cfn.parameter_values(
        template, {"ArtifactBucket": "a", "ArtifactKey": "k", "BucketPrefix": "acme-events"}))
    check(not [r for r in default["OpsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
               if r.get("Prefix") == "staging/"], "the staging/ rule exists with ScaleOutWorkers=1")

    alarm = resources["StateMachineFailedAlarm"]["Properties"]
    check((alarm["Namespace"], alarm["MetricName"]) == ("AWS/States", "ExecutionsFailed")
          and alarm["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": "ExportStateMachine"}}]
          and alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}] and alarm["OKActions"] == [{"Ref": "AlarmTopic"}]
          and alarm["ComparisonOperator"] == "GreaterThanThreshold" and alarm["Threshold"] == 0,
          f"executions-failed alarm {alarm}")
    out = template["Outputs"]["StateMachineArn"]
    check(out["Value"] == {"Ref": "ExportStateMachine"}, f"output StateMachineArn {out}")

    p = template["Parameters"]
    check((p["ScaleOutWorkers"]["MinValue"], p["ScaleOutWorkers"]["MaxValue"]) == (1, 1000),
          f"ScaleOutWorkers range {p['ScaleOutWorkers']}")
    check((p["ScaleOutMaxConcurrency"]["Type"], p["ScaleOutMaxConcurrency"]["Default"],
           p["ScaleOutMaxConcurrency"]["MinValue"]) == ("Number", 40, 1),
          f"ScaleOutMaxConcurrency {p['ScaleOutMaxConcurrency']}")
    # The largest values still render valid JSON numbers.
    big = cfn.parameter_values(template, {"ArtifactBucket": "a", "ArtifactKey": "k", "BucketPrefix": "acme-events",
                                          "ScaleOutWorkers": p["ScaleOutWorkers"]["MaxValue"],
                                          "ScaleOutMaxConcurrency": p["ScaleOutMaxConcurrency"]["MaxValue"]})
    d = json.loads(cfn.state_machine_definition_text(template, big))
    check(d["States"]["Work"]["MaxConcurrency"] == p["ScaleOutMaxConcurrency"]["MaxValue"]
          and d["States"]["PlanHour"]["Parameters"]["workers"] == p["ScaleOutWorkers"]["MaxValue"],
          "the maximum parameter values do not render")
    return params


def main():
    template = cfn.load()
    params = check_resources()
    text = cfn.state_machine_definition_text(template, params)
    try:
        definition = json.loads(text)
    except ValueError as e:
        print(f"FAIL: the rendered definition is not JSON: {e}\n{text}")
        return 1
    check_definition(definition)
    if failures:
        print("FAIL:\n  " + "\n  ".join(failures))
        return 1
    print(f"ok: state machine definition ({len(definition['States'])} states): Input -> PlanHour|CatchUp "
          "(result dropped, failure caught) -> PlanScheduledHour "
          f"-> Plan -> AlreadyExported (Succeed) -> Work (DISTRIBUTED, MaxConcurrency {CONCURRENCY}, tolerated 0%, "
          "ResultPath null) -> ListClients -> Merge (ItemReader s3:getObject JSON) -> Finish; retriers, catches, "
          "Fail states, payloads against the stage contract; logging, staging lifecycle, alarm, output")
    return 0


if __name__ == "__main__":
    sys.exit(main())
