"""The scale-out variant of cloudformation/template.yaml on moto, in process (moto's mock_aws, run by the
machine image's Python that has moto: scale_out_moto_test.sh finds it):

1. CloudFormation CreateStack with ScaleOutWorkers=4, ScaleOutMaxConcurrency=3 and, next to it, the
   default (ScaleOutWorkers=1), the template given as AWS takes it (above 51,200 bytes uploaded to the
   artifacts bucket and passed as TemplateURL): CREATE_COMPLETE, exactly the resources cfn_template
   expects for each (less the types moto accepts but does not create); the state machine's name, role
   and definition (the Fn::Sub rendered by moto equals cfn_template's rendering); the schedule's target
   (the state machine with ScheduleRole, or the function), the function's reserved concurrency and
   invoke permission, the three roles' actions, the StateMachineArn output (only with scale-out); the
   hand-off: with scale-out the function's EAGLESENSE_STATE_MACHINE_ARN is the created state machine's
   ARN and the exporter role's HandOffHours allows states:StartExecution on it alone; without, neither.
   The allow-list: the scale-out stack is given AllowedClients (an s3:// list object), and its function's
   EAGLESENSE_CLIENTS is that value and its role's ReadClientList allows s3:GetObject on the ops bucket's
   config/ only; the default stack (AllowedClients empty) has neither.
2. That definition executed by moto's Step Functions interpreter (execute_state_machine) against a fake
   of the exporter function that implements the stage contract (plan, work, list-clients, merge,
   finish, catch-up) on moto's S3: a scheduled event (the catch-up stage first, with the event's time;
   then the hour before its time; one work unit fails once and is retried; an Undeliverable client is
   set aside; Finish's summary is the output); a scheduled event whose catch-up fails every time (3
   retries, then caught: the hour is planned and exported all the same) or is refused (InvalidEvent,
   not retried, the hour planned); {"hour": H} of an
   hour whose manifest exists (Plan only, Succeed); an input with neither hour nor time
   (EagleSense.InvalidInput, no invocation); InvalidEvent from Plan (not retried, EagleSense.PlanFailed
   with the function's errorType in the cause); a work unit failing every time (retried 3 times with
   growing waits, EagleSense.WorkFailed, no ListClients); a merge failing StageNotReady every time
   (EagleSense.MergeFailed, no Finish). Retry waits are recorded instead of slept.

What moto does not cover, checked statically instead (policy_test.py, state_machine_test.py, cfn-lint):
its CloudFormation passes only the name, definition and role to the state machine (no logging
configuration, no type), creates nothing for alarms, and does not evaluate IAM; its interpreter runs
Distributed Map children in threads without MaxConcurrency limits, child executions or map runs of
their own, and does not check the role. Exit 0 = pass.
"""
import ast
import io
import json
import logging
import os
import re
import sys
import threading
import time
import types
import warnings
import zipfile
from datetime import datetime, timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cfn_template as cfn  # noqa: E402

try:
    import boto3
    from moto import mock_aws
    from moto.core.config import default_user_config
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
except ImportError as e:  # the wrapper picks moto's Python; run directly with another, this explains
    sys.exit(f"moto (with its Step Functions interpreter) is not importable by {sys.executable}: {e}")

# moto warns of each resource type its CloudFormation accepts without creating anything (MOTO_SKIPS),
# and its interpreter logs every error a state raises, caught or not (the test provokes many).
warnings.filterwarnings("ignore", message="Tried to parse AWS::")
logging.getLogger("moto").setLevel(logging.CRITICAL)
ACCOUNT, REGION = "123456789012", "us-east-1"
MOTO_SKIPS = {"AWS::CloudWatch::Alarm", "AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy",
              "AWS::Lambda::EventInvokeConfig", "AWS::SNS::Subscription"}
WORKERS, CONCURRENCY = 4, 3
CLIENTS = ["acme", "globex", "initech"]  # initech has no bucket: Undeliverable
ALLOW_LIST = "s3://acme-events-ops/config/clients.txt"  # the scale-out stack's AllowedClients

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def client(service):
    return boto3.client(service, region_name=REGION)


# --- 1. the stacks -------------------------------------------------------------------------------------

def create_stack(name, overrides):
    template = cfn.load()
    cf = client("cloudformation")
    # As on AWS: inline up to 51,200 bytes, else uploaded to the artifacts bucket and given as TemplateURL
    # (moto itself takes any TemplateBody, so the limit is kept here).
    source = cfn.template_source(client("s3"), overrides["ArtifactBucket"], region=REGION)
    if os.path.getsize(cfn.TEMPLATE) > cfn.TEMPLATE_BODY_LIMIT:
        check(set(source) == {"TemplateURL"}, f"{name}: a template over the limit sent as {sorted(source)}")
    cf.create_stack(StackName=name, Capabilities=["CAPABILITY_NAMED_IAM"], **source,
                    Parameters=[{"ParameterKey": k, "ParameterValue": str(v)} for k, v in overrides.items()])
    stack = cf.describe_stacks(StackName=name)["Stacks"][0]
    check(stack["StackStatus"] == "CREATE_COMPLETE", f"{name}: {stack['StackStatus']} {stack.get('StackStatusReason')}")
    params = cfn.parameter_values(template, overrides)
    active = cfn.active_resources(template, params)
    want = {k: r["Type"] for k, r in active.items() if r["Type"] not in MOTO_SKIPS}
    got = {}
    for page in cf.get_paginator("list_stack_resources").paginate(StackName=name):
        for r in page["StackResourceSummaries"]:
            if r.get("LogicalResourceId") and r["ResourceType"] not in MOTO_SKIPS:
                got[r["LogicalResourceId"]] = (r["ResourceType"], r.get("PhysicalResourceId", ""))
    check({k: t for k, (t, _) in got.items()} == want,
          f"{name}: resources {sorted(got)} != expected {sorted(want)}")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    return template, params, got, outputs


def role_statements(role_name):
    """The role's statements as moto's IAM holds them (the template's Fn::If resolved)."""
    iam = client("iam")
    statements = []
    for policy in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        doc = iam.get_role_policy(RoleName=role_name, PolicyName=policy)["PolicyDocument"]
        if isinstance(doc, str):  # moto 5.2 returns the template's dict as its Python repr
            try:
                doc = json.loads(doc)
            except ValueError:
                doc = ast.literal_eval(doc)
        statements += [st for st in doc["Statement"] if st]  # moto keeps an Fn::If's AWS::NoValue as None
    return statements


def role_actions(role_name):
    """{action: Resource} of a role whose actions each appear in one statement."""
    actions = {}
    for st in role_statements(role_name):
        for a in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]]):
            actions[a] = st["Resource"]
    return actions


def check_stacks():
    s3 = client("s3")
    s3.create_bucket(Bucket="artifacts")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("bootstrap", "#!/bin/sh\nexit 1\n")
    s3.put_object(Bucket="artifacts", Key="k.zip", Body=buf.getvalue())
    common = {"ArtifactBucket": "artifacts", "ArtifactKey": "k.zip"}

    # The default: no state machine, the schedule invokes the function.
    template, params, got, outputs = create_stack("single", {**common, "BucketPrefix": "acme-single",
                                                             "TableName": "events-single"})
    check("StateMachineArn" not in outputs, f"single: outputs {sorted(outputs)}")
    events, lam = client("events"), client("lambda")
    target, = events.list_targets_by_rule(Rule=got["HourlySchedule"][1])["Targets"]
    check(target["Arn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:single-exporter" and "RoleArn" not in target,
          f"single: schedule target {target}")
    check(lam.get_function_concurrency(FunctionName="single-exporter").get("ReservedConcurrentExecutions") == 1,
          "single: reserved concurrency")
    deletes = [st["Resource"] for st in role_statements(got["ExporterRole"][1])
               if "s3:DeleteObject" in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])]
    # Hour leases, and the undeliverable copies a catch-up has delivered (docs/ACROSS_TIME.md).
    check(sorted(deletes) == ["arn:aws:s3:::acme-single-ops/locks/*", "arn:aws:s3:::acme-single-ops/undeliverable/*"],
          f"single: the exporter may delete more than hour leases and delivered copies: {deletes}")
    # No state machine, so nothing to hand an hour to: no ARN in the environment, no states:* in the role.
    variables = lam.get_function_configuration(FunctionName="single-exporter")["Environment"]["Variables"]
    check("EAGLESENSE_STATE_MACHINE_ARN" not in variables,
          f"single: EAGLESENSE_STATE_MACHINE_ARN is set: {variables.get('EAGLESENSE_STATE_MACHINE_ARN')}")
    states = [a for a in role_actions(got["ExporterRole"][1]) if a.startswith("states:")]
    check(not states, f"single: the exporter role has Step Functions actions {states}")
    # AllowedClients empty: no allow-list in the environment, nothing of the ops bucket's config/ readable.
    check("EAGLESENSE_CLIENTS" not in variables,
          f"single: EAGLESENSE_CLIENTS is set without AllowedClients: {variables.get('EAGLESENSE_CLIENTS')}")
    config = [st for st in role_statements(got["ExporterRole"][1])
              if st.get("Sid") == "ReadClientList" or "/config/" in json.dumps(st.get("Resource"))]
    check(not config, f"single: the exporter role reads config/ without AllowedClients: {config}")

    # Scale-out.
    name = "scaled"
    overrides = {**common, "BucketPrefix": "acme-events", "TableName": "events",
                 "ScaleOutWorkers": WORKERS, "ScaleOutMaxConcurrency": CONCURRENCY,
                 "AllowedClients": ALLOW_LIST}
    template, params, got, outputs = create_stack(name, overrides)
    sfn = client("stepfunctions")
    sm_arn = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}-export"
    check(outputs.get("StateMachineArn") == sm_arn, f"{name}: StateMachineArn output {outputs.get('StateMachineArn')}")
    check(got.get("ExportStateMachine", ("", ""))[1] == sm_arn,
          f"{name}: state machine {got.get('ExportStateMachine')}")
    sm = sfn.describe_state_machine(stateMachineArn=sm_arn)
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/{got['StateMachineRole'][1]}"
    check(sm["roleArn"] == role_arn, f"{name}: state machine role {sm['roleArn']}, expected {role_arn}")
    definition = sm["definition"]
    want = cfn.state_machine_definition_text(template, params, stack=name, region=REGION, account=ACCOUNT)
    # moto renders a two-argument Fn::Sub with Python's string.Template, which reads "$$" as an escaped
    # "$": the plan's "run_id.$": "$$.Execution.Name" (a context object path) comes back as "$.Execution.Name".
    # CloudFormation keeps "$$" (only "${!" is an escape there); state_machine_test checks the path itself.
    rendered = want
    want = want.replace('"$$.Execution.Name"', '"$.Execution.Name"')
    check(json.loads(definition) == json.loads(want),
          f"{name}: moto's rendering of the definition differs from cfn_template's")

    target, = events.list_targets_by_rule(Rule=got["HourlySchedule"][1])["Targets"]
    check(target["Arn"] == sm_arn and target.get("RoleArn") == f"arn:aws:iam::{ACCOUNT}:role/{got['ScheduleRole'][1]}",
          f"{name}: schedule target {target}")
    check(target.get("RetryPolicy") == {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 3600}
          and target.get("DeadLetterConfig", {}).get("Arn", "").endswith(f":{name}-failed-runs"),
          f"{name}: schedule target retry/dead letters {target}")
    concurrency = lam.get_function_concurrency(FunctionName=f"{name}-exporter").get("ReservedConcurrentExecutions")
    check(concurrency == CONCURRENCY, f"{name}: reserved concurrency {concurrency}, expected ScaleOutMaxConcurrency")
    try:
        policy = lam.get_policy(FunctionName=f"{name}-exporter")["Policy"]
        failures.append(f"{name}: the function has a resource policy: {policy}")
    except lam.exceptions.ResourceNotFoundException:
        pass

    # The hand-off: the function's environment names the state machine CloudFormation created, and its
    # role may start executions of exactly that one.
    variables = lam.get_function_configuration(FunctionName=f"{name}-exporter")["Environment"]["Variables"]
    check(variables.get("EAGLESENSE_STATE_MACHINE_ARN") == sm_arn,
          f"{name}: EAGLESENSE_STATE_MACHINE_ARN {variables.get('EAGLESENSE_STATE_MACHINE_ARN')}, expected {sm_arn}")
    exporter = role_statements(got["ExporterRole"][1])
    hand_off = [st for st in exporter if st.get("Sid") == "HandOffHours"]
    check(len(hand_off) == 1 and hand_off[0]["Effect"] == "Allow"
          and hand_off[0]["Action"] in ("states:StartExecution", ["states:StartExecution"])
          and hand_off[0]["Resource"] in (sm_arn, [sm_arn]),
          f"{name}: HandOffHours {hand_off}, expected states:StartExecution on {sm_arn} only")
    states = {a: st["Resource"] for st in exporter
              for a in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]]) if a.startswith("states:")}
    check(set(states) == {"states:StartExecution"}, f"{name}: the exporter role's Step Functions actions {states}")
    # The allow-list: the value given, and GetObject on the ops bucket's config/ (where the object is) only.
    check(variables.get("EAGLESENSE_CLIENTS") == ALLOW_LIST,
          f"{name}: EAGLESENSE_CLIENTS {variables.get('EAGLESENSE_CLIENTS')!r}, expected {ALLOW_LIST!r}")
    read_list = [st for st in exporter if st.get("Sid") == "ReadClientList"]
    check(len(read_list) == 1 and read_list[0]["Effect"] == "Allow"
          and read_list[0]["Action"] in ("s3:GetObject", ["s3:GetObject"])
          and read_list[0]["Resource"] in ("arn:aws:s3:::acme-events-ops/config/*", ["arn:aws:s3:::acme-events-ops/config/*"]),
          f"{name}: ReadClientList {read_list}, expected s3:GetObject on arn:aws:s3:::acme-events-ops/config/* only")
    staging = [st for st in exporter if st.get("Sid") == "StagingReadWriteDelete"]
    check(len(staging) == 1 and staging[0]["Resource"] == "arn:aws:s3:::acme-events-ops/staging/*"
          and "s3:DeleteObject" in staging[0]["Action"], f"{name}: exporter staging statement {staging}")
    machine = role_actions(got["StateMachineRole"][1])
    fn_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}-exporter"
    check(machine.get("lambda:InvokeFunction") == [fn_arn, f"{fn_arn}:*"],
          f"{name}: invoke on {machine.get('lambda:InvokeFunction')}")
    check(machine.get("states:StartExecution") == sm_arn,
          f"{name}: StartExecution on {machine.get('states:StartExecution')}")
    check(machine.get("states:DescribeExecution") == f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{name}-export/*",
          f"{name}: DescribeExecution on {machine.get('states:DescribeExecution')}")
    check(machine.get("s3:GetObject") == "arn:aws:s3:::acme-events-ops/staging/*/_clients.json",
          f"{name}: GetObject on {machine.get('s3:GetObject')}")
    check(len(machine) == 13, f"{name}: state machine role actions {sorted(machine)}")
    check(role_actions(got["ScheduleRole"][1]) == {"states:StartExecution": sm_arn},
          f"{name}: schedule role {role_actions(got['ScheduleRole'][1])}")
    # The executions run CloudFormation's rendering of the definition, not moto's (above).
    return rendered, role_arn


# --- 2. executions -------------------------------------------------------------------------------------

class FakeExporter:
    """The exporter function's stage contract, on moto's S3 (ops bucket acme-events-ops)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.calls = []
        self.manifests = set()
        self.leased = {}  # hour -> the run id holding its lease
        self.fail = {}  # (stage, key) -> [errorType, times (-1: always)]
        self.missing_client_list = False
        self.s3 = client("s3")

    def error(self, stage, key):
        with self.lock:
            f = self.fail.get((stage, key))
            if not f or f[1] == 0:
                return None
            f[1] -= 1
            return f[0]

    def __call__(self, body):
        event = json.loads(body)
        with self.lock:
            self.calls.append(event)
        stage = event.get("stage")
        if stage == "catch-up":
            # The contract: {"stage": "catch-up", "time": the scheduled event's time}; the hours handed off
            # are the function's business (the state machine drops the result).
            if set(event) != {"stage", "time"}:
                return {"errorType": "InvalidEvent", "errorMessage": f"catch-up: {sorted(event)}"}
            err = self.error("catch-up", event["time"])
            if err:
                return {"errorType": err, "errorMessage": f"catch-up at {event['time']} failed"}
            return {"hours_handed_off": ["2026-11-29T05"], "hours_checked": 6}
        if stage == "plan":
            # run_id: the execution's name, which holds the hour's lease.
            if set(event) not in ({"stage", "time", "workers", "run_id"}, {"stage", "hour", "workers", "run_id"}) \
                    or not event["run_id"]:
                return {"errorType": "InvalidEvent", "errorMessage": f"plan: {sorted(event)}"}
            if "time" in event:
                t = datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ")
                hour = (t.replace(minute=0, second=0) - timedelta(hours=1)).strftime("%Y-%m-%dT%H")
            else:
                hour = event["hour"]
            err = self.error("plan", hour)
            if err:
                return {"errorType": err, "errorMessage": f"the hour {hour} has not ended"}
            complete = hour in self.manifests
            leased = not complete and hour in self.leased
            units = [] if complete or leased else [{"stage": "work", "hour": hour, "unit": i}
                                                  for i in range(event["workers"])]
            out = {"hour": hour, "complete": complete, "leased": leased, "workers": event["workers"],
                   "plan_key": f"staging/{hour}/plan.json", "units": units}
            if leased:
                out.update(leased_by=self.leased[hour], leased_until="2026-11-29T12:00:00.000000Z")
            return out
        if stage == "work":
            err = self.error("work", event["unit"])
            if err:
                return {"errorType": err, "errorMessage": f"unit {event['unit']} failed"}
            self.s3.put_object(Bucket="acme-events-ops", Body=b"{}",
                               Key=f"staging/{event['hour']}/units/{event['unit']}.json")
            return {"hour": event["hour"], "unit": event["unit"], "events": 10}
        if stage == "list-clients":
            hour = event["hour"]
            items = [{"stage": "merge", "hour": hour, "client": c} for c in CLIENTS]
            key = f"staging/{hour}/_clients.json"
            if self.missing_client_list:
                key = f"staging/{hour}/_missing.json"
            else:
                self.s3.put_object(Bucket="acme-events-ops", Key=key, Body=json.dumps(items).encode())
            return {"hour": hour, "clients": len(items), "items_bucket": "acme-events-ops", "items_key": key}
        if stage == "merge":
            err = self.error("merge", event["client"])
            if err:
                return {"errorType": err, "errorMessage": f"merge {event['client']}"}
            return {"hour": event["hour"], "client": event["client"], "objects": 1}
        if stage == "finish":
            with self.lock:
                self.manifests.add(event["hour"])
            return {"hour": event["hour"], "status": "exported", "clients": len(CLIENTS)}
        return {"errorType": "InvalidEvent", "errorMessage": f"unknown stage in {event}"}


def install_fake(fake, waits, function_arn):
    def invoke(self, function_name, qualifier, body, headers, response_headers):
        if function_name != function_arn or qualifier not in (None, "$LATEST"):
            failures.append(f"invoked {function_name}:{qualifier}, not the exporter {function_arn}")
        result = fake(body)
        if isinstance(result, dict) and "errorType" in result:
            response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps(result).encode()
    LambdaSimpleBackend.invoke = invoke
    retrier_decl.time = types.SimpleNamespace(sleep=lambda seconds: waits.append(seconds))


def wait(sfn, sm_arn, name, payload, timeout=120):
    arn = sfn.start_execution(stateMachineArn=sm_arn, name=name, input=json.dumps(payload))["executionArn"]
    deadline = time.time() + timeout
    while time.time() < deadline:
        d = sfn.describe_execution(executionArn=arn)
        if d["status"] != "RUNNING":
            return d
        time.sleep(0.05)
    failures.append(f"{name}: still running after {timeout} s")
    return d


def stages(calls, stage):
    return [c for c in calls if c.get("stage") == stage]


def check_executions(definition, role_arn):
    default_user_config["stepfunctions"]["execute_state_machine"] = True
    default_user_config["lambda"]["use_docker"] = False
    sfn = client("stepfunctions")
    # moto 5.2.1's ASL grammar takes ToleratedFailurePercentage as a decimal only (its lexer makes "0" an
    # INT token, which the rule does not accept): the same value is written 0.0 for it.
    tolerance = re.compile(r'"ToleratedFailurePercentage": 0(?=[,}\s])')
    check(len(tolerance.findall(definition)) == 2, "ToleratedFailurePercentage 0 is not in both maps")
    definition = tolerance.sub('"ToleratedFailurePercentage": 0.0', definition)

    def run(name, payload):
        """The execution's description and {map label: DescribeMapRun} of its map runs. One state machine
        per execution, deleted after it: moto's StartExecution deep-copies the state machine, and with
        it (through its backend) every earlier execution, whose locks cannot be copied."""
        arn = sfn.create_state_machine(name=f"scaled-export-{name}", definition=definition, roleArn=role_arn,
                                       type="STANDARD")["stateMachineArn"]
        try:
            d = wait(sfn, arn, name, payload)
            runs = {}
            for r in sfn.list_map_runs(executionArn=d["executionArn"])["mapRuns"]:
                label = r["mapRunArn"].split("/")[-1].split(":")[0]
                runs[label] = sfn.describe_map_run(mapRunArn=r["mapRunArn"])
            return d, runs
        finally:
            sfn.delete_state_machine(stateMachineArn=arn)

    def items(runs, label):
        c = runs.get(label, {}).get("itemCounts", {})
        return {k: c.get(k) for k in ("total", "succeeded", "failed")}

    waits = []
    fake = FakeExporter()
    install_fake(fake, waits, f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:scaled-exporter")
    scheduled = {"version": "0", "id": "7bf73129", "detail-type": "Scheduled Event", "source": "aws.events",
                 "account": ACCOUNT, "time": "2026-11-29T11:05:00Z", "region": REGION,
                 "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/scaled-HourlySchedule"], "detail": {}}
    hour = "2026-11-29T10"

    # a. The scheduled event: every stage, in order; unit 2 fails once and is retried; initech is
    #    Undeliverable, not retried, and set aside; Finish's summary is the output.
    fake.fail[("work", 2)] = ["HourFailed", 1]
    fake.fail[("merge", "initech")] = ["Undeliverable", -1]
    d, runs = run("scheduled", scheduled)
    check(d["status"] == "SUCCEEDED", f"scheduled: {d['status']} {d.get('error')} {d.get('cause')}")
    calls = fake.calls
    check(stages(calls, "catch-up") == [{"stage": "catch-up", "time": "2026-11-29T11:05:00Z"}],
          f"scheduled: catch-up calls {stages(calls, 'catch-up')}")
    check(stages(calls, "plan") == [{"stage": "plan", "time": "2026-11-29T11:05:00Z", "workers": WORKERS,
                                     "run_id": "scheduled"}],
          f"scheduled: plan calls {stages(calls, 'plan')}")
    units = sorted(c["unit"] for c in stages(calls, "work"))
    check(units == sorted(list(range(WORKERS)) + [2]), f"scheduled: work calls (unit 2 twice) {units}")
    check(all(c == {"stage": "work", "hour": hour, "unit": c["unit"]} for c in stages(calls, "work")),
          f"scheduled: work payloads {stages(calls, 'work')}")
    check(stages(calls, "list-clients") == [{"stage": "list-clients", "hour": hour}], "scheduled: list-clients")
    merges = sorted(c["client"] for c in stages(calls, "merge"))
    check(merges == CLIENTS, f"scheduled: merges {merges} (Undeliverable must not be retried)")
    check(all(c == {"stage": "merge", "hour": hour, "client": c["client"]} for c in stages(calls, "merge")),
          f"scheduled: merge payloads (the client list's items) {stages(calls, 'merge')}")
    check(stages(calls, "finish") == [{"stage": "finish", "hour": hour}], "scheduled: finish")
    order = [c["stage"] for c in calls]
    check(order[:2] == ["catch-up", "plan"] and order[-1] == "finish"
          and max(i for i, s in enumerate(order) if s == "work") < order.index("list-clients")
          < min(i for i, s in enumerate(order) if s == "merge"), f"scheduled: stage order {order}")
    check(json.loads(d.get("output", "null")) == {"hour": hour, "status": "exported", "clients": len(CLIENTS)},
          f"scheduled: output {d.get('output')}")
    check(len(waits) == 1 and 0 <= waits[0] <= 2, f"scheduled: retry waits {waits}")
    check(items(runs, "Work") == {"total": WORKERS, "succeeded": WORKERS, "failed": 0},
          f"scheduled: Work map run {items(runs, 'Work')}")
    check(items(runs, "Merge") == {"total": len(CLIENTS), "succeeded": len(CLIENTS), "failed": 0},
          f"scheduled: Merge map run {items(runs, 'Merge')} (the Undeliverable client must succeed, set aside)")
    check(all(r.get("maxConcurrency") == CONCURRENCY for r in runs.values()),
          f"scheduled: map runs' maxConcurrency {[r.get('maxConcurrency') for r in runs.values()]}")

    # a2. The catch-up stage fails every time: retried 3 times, then caught, and the scheduled hour is
    #     still planned and exported (a failed catch-up never stops the current hour).
    fake.calls, waits[:] = [], []
    later = dict(scheduled, time="2026-11-29T13:05:00Z")
    fake.fail[("catch-up", later["time"])] = ["HourFailed", -1]
    d, runs = run("catch-up-fails", later)
    order = [c["stage"] for c in fake.calls]
    check(d["status"] == "SUCCEEDED"
          and json.loads(d.get("output", "null")) == {"hour": "2026-11-29T12", "status": "exported",
                                                     "clients": len(CLIENTS)},
          f"catch-up-fails: {d['status']} {d.get('error')} {d.get('cause')} output {d.get('output')}")
    check(order[:5] == ["catch-up"] * 4 + ["plan"] and len(waits) == 3,
          f"catch-up-fails: stages {order}, retry waits {waits} (catch-up 4 times, then plan)")
    check(stages(fake.calls, "plan") == [{"stage": "plan", "time": later["time"], "workers": WORKERS,
                                          "run_id": "catch-up-fails"}],
          f"catch-up-fails: plan calls {stages(fake.calls, 'plan')}")
    check(stages(fake.calls, "finish") == [{"stage": "finish", "hour": "2026-11-29T12"}],
          f"catch-up-fails: finish calls {stages(fake.calls, 'finish')}")
    # InvalidEvent is not retried, and goes on to the plan too (the hour was exported above: complete).
    fake.calls, waits[:] = [], []
    fake.fail[("catch-up", later["time"])] = ["InvalidEvent", -1]
    d, runs = run("catch-up-refused", later)
    check(d["status"] == "SUCCEEDED" and [c["stage"] for c in fake.calls] == ["catch-up", "plan"] and not waits,
          f"catch-up-refused: {d['status']} stages {[c['stage'] for c in fake.calls]} waits {waits}")
    del fake.fail[("catch-up", later["time"])]

    # b. The same hour again, by hand: Plan says complete, nothing else runs (no catch-up: not scheduled).
    fake.calls, waits[:] = [], []
    d, runs = run("again", {"hour": hour})
    check(d["status"] == "SUCCEEDED"
          and fake.calls == [{"stage": "plan", "hour": hour, "workers": WORKERS, "run_id": "again"}]
          and not runs, f"again: {d['status']} calls {fake.calls} map runs {sorted(runs)}")

    # b2. An hour another execution holds the lease of: Plan says leased, nothing else runs.
    fake.calls, fake.leased = [], {"2026-11-29T09": "other-execution"}
    d, runs = run("leased", {"hour": "2026-11-29T09"})
    check(d["status"] == "SUCCEEDED" and [c["stage"] for c in fake.calls] == ["plan"] and not runs,
          f"leased: {d['status']} calls {fake.calls} map runs {sorted(runs)}")
    fake.leased = {}

    # c. Neither hour nor time: refused before any invocation.
    fake.calls = []
    d, _ = run("invalid-input", {"hours": hour})
    check(d["status"] == "FAILED" and d.get("error") == "EagleSense.InvalidInput" and not fake.calls,
          f"invalid-input: {d['status']} {d.get('error')} calls {fake.calls}")

    # d. Plan refuses the hour (InvalidEvent): not retried; the cause starts with the errorType.
    fake.calls = []
    fake.fail[("plan", "2026-11-29T23")] = ["InvalidEvent", -1]
    d, _ = run("not-ended", {"hour": "2026-11-29T23"})
    check(d["status"] == "FAILED" and d.get("error") == "EagleSense.PlanFailed"
          and d.get("cause", "").startswith("InvalidEvent: ") and len(fake.calls) == 1,
          f"not-ended: {d['status']} {d.get('error')} {d.get('cause')} calls {len(fake.calls)}")

    # e. A work unit fails every time: tried 4 times (3 retries, waits of at most 2, 4, 8 s), the item
    #    fails. On AWS, ToleratedFailurePercentage 0 then fails the map run and Work goes to WorkFailed;
    #    moto's interpreter ignores the tolerance and carries on, so only the item is checked here.
    fake.calls, waits[:] = [], []
    fake.fail[("work", 1)] = ["HourFailed", -1]
    d, runs = run("work-fails", {"hour": "2026-11-29T09"})
    unit1 = [c for c in stages(fake.calls, "work") if c["unit"] == 1]
    check(len(unit1) == 4 and len(waits) == 3 and waits[0] <= 2 and waits[1] <= 4 and waits[2] <= 8,
          f"work-fails: unit 1 tried {len(unit1)} times, retry waits {waits}")
    check(items(runs, "Work") == {"total": WORKERS, "succeeded": WORKERS - 1, "failed": 1},
          f"work-fails: Work map run {items(runs, 'Work')}")
    del fake.fail[("work", 1)]

    # f. The client list is missing: Merge's ItemReader fails, Merge goes to MergeFailed; no Finish.
    fake.calls = []
    fake.missing_client_list = True
    d, runs = run("no-client-list", {"hour": "2026-11-29T08"})
    check(d["status"] == "FAILED" and d.get("error") == "EagleSense.MergeFailed"
          and not stages(fake.calls, "merge") and not stages(fake.calls, "finish"),
          f"no-client-list: {d['status']} {d.get('error')} {d.get('cause')}; "
          f"stages {[c['stage'] for c in fake.calls]}")
    fake.missing_client_list = False

    # g. A merge never finds its inputs (StageNotReady): retried 3 times, the item fails.
    fake.calls, waits[:] = [], []
    fake.fail[("merge", "globex")] = ["StageNotReady", -1]
    d, runs = run("merge-fails", {"hour": "2026-11-29T07"})
    globex = [c for c in stages(fake.calls, "merge") if c["client"] == "globex"]
    check(len(globex) == 4 and len(waits) == 3, f"merge-fails: globex tried {len(globex)} times, waits {waits}")
    check(items(runs, "Merge") == {"total": len(CLIENTS), "succeeded": len(CLIENTS) - 1, "failed": 1},
          f"merge-fails: Merge map run {items(runs, 'Merge')} (only globex fails; initech is set aside)")


def main():
    # Part 1 on moto's plain Lambda and Step Functions backends (where CloudFormation creates the function
    # and the state machine; nothing is invoked); part 2 switches to the interpreter and the Lambda
    # backend without Docker, whose invoke runs the fake.
    config = {"lambda": {"use_docker": True}, "stepfunctions": {"execute_state_machine": False}}
    with mock_aws(config=config):
        definition, role_arn = check_stacks()
        if not failures:
            check_executions(definition, role_arn)
    if failures:
        print("FAIL:\n  " + "\n  ".join(failures))
        return 1
    print("ok: moto CloudFormation: ScaleOutWorkers=1 and =4 stacks CREATE_COMPLETE with the expected resources, "
          "state machine definition as rendered, schedule target, reserved concurrency, roles; moto's Step Functions "
          "interpreter ran the definition against a fake of the stage contract: scheduled event (catch-up first), "
          "failing catch-up (the hour still exported), already exported, invalid input, InvalidEvent, failing work "
          "unit, failing merge; hand-off: EAGLESENSE_STATE_MACHINE_ARN and HandOffHours name the state machine; "
          "allow-list: EAGLESENSE_CLIENTS and ReadClientList (config/) only with AllowedClients")
    return 0


if __name__ == "__main__":
    sys.exit(main())
