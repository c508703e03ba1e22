"""The roles are least privilege. The exporter role: for every combination of UseKmsKey, EnableVpc,
ExpectedBucketOwner and scale-out (ScaleOutWorkers 1 or more) its statements are exactly the expected
ones (Sid, effect, actions, resources, condition), the KMS, VPC and scale-out additions only under
their conditions. Across them: every statement on a client bucket carries the s3:ResourceAccount
condition (the ExpectedBucketOwner account, else the stack's), every ops-bucket statement names only
the prefixes that action needs (never the whole bucket), s3:ListBucket only with an s3:prefix
condition, the DynamoDB ARNs are the table and its one index as rendered for a stack, no "*" action
anywhere and a "*" resource only for the VPC actions. With ScaleOutWorkers > 1 the state machine's role
and the schedule's role are exact too (every resource scoped; "*" only for the log-delivery actions,
which take no other), and with ScaleOutWorkers 1 neither exists, nor the state machine. With
scale-out the exporter role may start executions of that one state machine (HandOffHours), whose ARN
is also the function's EAGLESENSE_STATE_MACHINE_ARN; without, neither exists. With a non-empty
AllowedClients the function's EAGLESENSE_CLIENTS is that value and the role may read the ops bucket's
config/ prefix (ReadClientList: s3:GetObject only), where the allow-list object lives; with an empty
one, neither (AllowedPattern checked against examples too). Also checks
the template invariants a reader relies on (reserved concurrency, schedule target, environment, table
shape).

Offline: reads cloudformation/*.yaml with cfn_template's loader. Exit 0 = pass.
"""
import itertools
import re
import sys

import cfn_template as cfn

OPS = "${OpsBucket.Arn}"
CLIENT_OBJECTS = {"Fn::Sub": "arn:${AWS::Partition}:s3:::${BucketPrefix}-*/events-*"}
# The client buckets' account: ExpectedBucketOwner when set, else the stack's own.
CLIENT_ACCOUNT = {"Fn::If": ["HasExpectedOwner", {"Ref": "ExpectedBucketOwner"}, {"Ref": "AWS::AccountId"}]}
TABLE = {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${TableName}"}
INDEX_NAME = "hourShard-time-index"
INDEX = {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${TableName}/index/"
                    + INDEX_NAME}
# Ops-bucket prefixes, each with the actions it needs (docs/DEPLOY.md, "The exporter's role").
OPS_PREFIXES = {"manifests", "rejected", "undeliverable", "locks", "reports", "staging", "config"}
LISTED_PREFIXES = ["manifests/*", "rejected/*", "undeliverable/*", "locks/*"]


def ops(prefix):
    return {"Fn::Sub": f"{OPS}/{prefix}/*"}


def client_condition(account):
    return {"StringEquals": {"s3:ResourceAccount": account}}


# Sid -> (Effect, actions, resources, Condition or None), as the template writes them (Fn::If chosen).
BASE_STATEMENTS = {
    "ScanEventsTable": ("Allow", {"dynamodb:Scan"}, [TABLE], None),
    "QueryHourShardIndex": ("Allow", {"dynamodb:Query"}, [INDEX], None),
    # PutObject (also multipart), GetObject (HeadObject after a lost Complete answer; verify), the abort.
    "ClientObjects": ("Allow", {"s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"}, [CLIENT_OBJECTS],
                      "client"),
    "DenyClientObjectsInOpsBucket": ("Deny", {"s3:PutObject", "s3:AbortMultipartUpload"},
                                     [{"Fn::Sub": f"{OPS}/events-*"}], None),
    "ManifestsReadWrite": ("Allow", {"s3:PutObject", "s3:GetObject"}, [ops("manifests")], None),
    "RejectedReadWrite": ("Allow", {"s3:PutObject", "s3:GetObject"}, [ops("rejected")], None),
    "UndeliverableReadWrite": ("Allow", {"s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload",
                                         "s3:DeleteObject"},
                               [ops("undeliverable")], None),
    "HourLeases": ("Allow", {"s3:PutObject", "s3:GetObject", "s3:DeleteObject"}, [ops("locks")], None),
    "WriteReports": ("Allow", {"s3:PutObject"}, [ops("reports")], None),
    "ListOpsPrefixes": ("Allow", {"s3:ListBucket"}, [{"Fn::GetAtt": ["OpsBucket", "Arn"]}],
                        {"StringLike": {"s3:prefix": LISTED_PREFIXES}}),
    "WriteLogs": ("Allow", {"logs:CreateLogStream", "logs:PutLogEvents"},
                  [{"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
                               "${ExporterLogGroup}:*"}], None),
    # Lambda sends a failed run's record to the EventInvokeConfig on-failure destination (the DLQ)
    # with the function's own role: without it the destination cannot be written.
    "SendFailedRunsToDeadLetterQueue": ("Allow", {"sqs:SendMessage"},
                                        [{"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}], None),
}
KMS_ACTIONS = {"kms:GenerateDataKey", "kms:Decrypt"}
KMS_STATEMENTS = {"UseDataKey": ("Allow", KMS_ACTIONS, [{"Fn::GetAtt": ["DataKey", "Arn"]}], None)}
VPC_ACTIONS = {
    "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
}
VPC_STATEMENTS = {"VpcNetworkInterfaces": ("Allow", VPC_ACTIONS, ["*"], None)}  # they only work on "*"
# The scale-out state machine's ARN, built from its name ({stack}-export): a !Ref would be circular.
STATE_MACHINE_ARN = {"Fn::Sub": "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:"
                                "${AWS::StackName}-export"}
# Scale-out: the stages (the same function) read, write and delete staging/{hour}/ and list it; the
# function hands an hour it cannot finish before its deadline, and each hour the catch-up stage finds
# missing, to the state machine (StartExecution on that one state machine, nothing else of Step Functions).
SCALE_OUT_STATEMENTS = {
    "StagingReadWriteDelete": ("Allow", {"s3:PutObject", "s3:GetObject", "s3:DeleteObject",
                                         "s3:AbortMultipartUpload"}, [ops("staging")], None),
    "ListStagingPrefix": ("Allow", {"s3:ListBucket"}, [{"Fn::GetAtt": ["OpsBucket", "Arn"]}],
                          {"StringLike": {"s3:prefix": "staging/*"}}),
    "HandOffHours": ("Allow", {"states:StartExecution"}, [STATE_MACHINE_ARN], None),
}
STAGING_CLIENT_LIST = {"Fn::Sub": f"{OPS}/staging/*/_clients.json"}
# A non-empty AllowedClients: the function reads the allow-list object (s3://{ops}/config/KEY), nothing
# else of config/ and no other action there.
CLIENT_LIST_STATEMENTS = {"ReadClientList": ("Allow", {"s3:GetObject"}, [ops("config")], None)}
# AllowedClients values of the combinations: none, inline, an object under config/.
ALLOWED_CLIENTS = ["", "acme,initech", "s3://acme-events-ops/config/clients.txt"]
# Calls the code makes that no statement may grant (removed: nothing calls them).
NOT_GRANTED = {"dynamodb:DescribeTable", "cloudwatch:PutMetricData", "s3:ListAllMyBuckets", "s3:CreateBucket",
               "s3:DeleteObjectVersion", "s3:PutObjectAcl"}

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def as_list(x):
    return x if isinstance(x, list) else [x]


def role_statements(resources, name="ExporterRole"):
    role = resources[name]["Properties"]
    check("ManagedPolicyArns" not in role, f"{name} has managed policies: {role.get('ManagedPolicyArns')}")
    check("PermissionsBoundary" not in role and "RoleName" not in role, f"{name}: unexpected role properties")
    statements = []
    for policy in role.get("Policies", []):
        doc = policy["PolicyDocument"]
        check(doc.get("Version") == "2012-10-17", f"policy {policy['PolicyName']}: Version {doc.get('Version')}")
        statements += as_list(doc["Statement"])
    # No other policy may be attached to the role from elsewhere in the template.
    for name, r in resources.items():
        if r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"):
            failures.append(f"{name} ({r['Type']}) adds permissions outside the role's inline policy")
    return statements


_TEMPLATE = []


def stack_params(use_kms, use_vpc, workers, owner="", clients=""):
    # Loaded once: nothing here changes the template (active_resources and substitute build new nodes).
    if not _TEMPLATE:
        _TEMPLATE.append(cfn.load())
    template = _TEMPLATE[0]
    return template, cfn.parameter_values(template, {
        "ArtifactBucket": "artifacts", "ArtifactKey": "k.zip", "BucketPrefix": "acme-events",
        "UseKmsKey": str(use_kms).lower(), "EnableVpc": str(use_vpc).lower(),
        "SubnetIds": "subnet-0123abcd", "SecurityGroupId": "sg-0123abcd",
        "VpcId": "vpc-0123abcd", "RouteTableIds": "rtb-0123abcd", "ScaleOutWorkers": workers,
        "ExpectedBucketOwner": owner, "AllowedClients": clients})


def stack_resources(use_kms, use_vpc, workers, owner="", clients=""):
    template, params = stack_params(use_kms, use_vpc, workers, owner, clients)
    return cfn.active_resources(template, params)


def same(a, b):
    return sorted(map(repr, as_list(a))) == sorted(map(repr, as_list(b)))


def ops_prefix_of(resource):
    """The ops-bucket prefix an object resource names ("manifests" for ${OpsBucket.Arn}/manifests/*),
    "" for the whole bucket's objects, None when it is not an ops-bucket object resource."""
    text = resource.get("Fn::Sub") if isinstance(resource, dict) else None
    if not isinstance(text, str) or not text.startswith(OPS + "/"):
        return None
    return text[len(OPS) + 1:].split("/", 1)[0] if "/" in text[len(OPS) + 1:] else ""


def check_statement_rules(statements, account, where):
    """The rules every exporter statement obeys, whatever the expected list says; account is the client
    buckets' account as the template gives it for these parameters."""
    for st in statements:
        sid = st.get("Sid", "?")
        check("Sid" in st, f"{where}: a statement has no Sid: {st}")
        for forbidden in ("NotAction", "NotResource", "Principal", "NotPrincipal"):
            check(forbidden not in st, f"{where}: statement {sid} has {forbidden}")
        actions = as_list(st.get("Action", []))
        resources_of = as_list(st.get("Resource", []))
        for a in actions:
            check("*" not in a, f"{where}: statement {sid} has a wildcard action {a}")
            check(a not in NOT_GRANTED, f"{where}: statement {sid} grants {a}, which nothing calls")
        if "*" in resources_of:
            check(set(actions) <= VPC_ACTIONS, f"{where}: statement {sid} puts {actions} on \"*\"")
        client = any(r == CLIENT_OBJECTS for r in resources_of)
        if client:
            check(resources_of == [CLIENT_OBJECTS], f"{where}: {sid} mixes client buckets with {resources_of}")
            check(st.get("Condition") == client_condition(account),
                  f"{where}: client-bucket statement {sid} lacks the s3:ResourceAccount condition: "
                  f"{st.get('Condition')}")
        for r in resources_of:
            prefix = ops_prefix_of(r)
            if prefix is not None and st["Effect"] == "Allow":
                check(prefix in OPS_PREFIXES, f"{where}: {sid} on the ops bucket's {r}: not one of the prefixes "
                                               f"{sorted(OPS_PREFIXES)}")
        if "s3:ListBucket" in actions:
            check(actions == ["s3:ListBucket"], f"{where}: ListBucket shares {sid} with {actions}")
            listed = (st.get("Condition") or {}).get("StringLike", {}).get("s3:prefix")
            check(listed is not None and set(st["Condition"]) == {"StringLike"},
                  f"{where}: {sid} lists the whole ops bucket (no s3:prefix condition): {st.get('Condition')}")
            for p in as_list(listed or []):
                check(p.split("/", 1)[0] in OPS_PREFIXES and p.endswith("/*"),
                      f"{where}: {sid} lists prefix {p!r}")


def check_role(use_kms, use_vpc, workers, owner="", clients=""):
    resources = stack_resources(use_kms, use_vpc, workers, owner, clients)
    scale_out = workers > 1
    where = (f"UseKmsKey={use_kms} EnableVpc={use_vpc} ScaleOutWorkers={workers} ExpectedBucketOwner={owner!r} "
             f"AllowedClients={clients!r}")
    statements = role_statements(resources)
    account = {"Ref": "ExpectedBucketOwner"} if owner else {"Ref": "AWS::AccountId"}
    check_statement_rules(statements, account, where)

    expected = dict(BASE_STATEMENTS)
    if use_kms:
        expected.update(KMS_STATEMENTS)
    if use_vpc:
        expected.update(VPC_STATEMENTS)
    if scale_out:
        expected.update(SCALE_OUT_STATEMENTS)
    if clients:
        expected.update(CLIENT_LIST_STATEMENTS)

    seen = set()
    for st in statements:
        sid = st.get("Sid", "?")
        check(sid not in seen, f"{where}: Sid {sid} twice")
        seen.add(sid)
        if sid not in expected:
            failures.append(f"{where}: unexpected statement {sid}: {st}")
            continue
        effect, actions, resources_of, condition = expected[sid]
        if condition == "client":
            condition = client_condition(account)
        check(st.get("Effect") == effect, f"{where}: {sid} is {st.get('Effect')}, expected {effect}")
        check(set(as_list(st["Action"])) == actions and len(as_list(st["Action"])) == len(actions),
              f"{where}: {sid} actions {st['Action']}, expected {sorted(actions)}")
        check(same(st["Resource"], resources_of), f"{where}: {sid} on {st['Resource']}, expected {resources_of}")
        check(st.get("Condition") == condition, f"{where}: {sid} condition {st.get('Condition')}, expected {condition}")
    check(seen == set(expected), f"{where}: statements missing: {sorted(set(expected) - seen)}")

    trust = as_list(resources["ExporterRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"])
    check(len(trust) == 1 and trust[0]["Principal"] == {"Service": "lambda.amazonaws.com"}
          and trust[0]["Action"] == "sts:AssumeRole",
          f"{where}: the role must be assumable by Lambda only: {trust}")
    env = resources["ExporterFunction"]["Properties"]["Environment"]["Variables"]
    check(env["EAGLESENSE_EXPECTED_BUCKET_OWNER"] == account,
          f"{where}: the expected bucket owner sent ({env['EAGLESENSE_EXPECTED_BUCKET_OWNER']}) is not the "
          f"account the role may write into ({account})")
    # The function hands hours off only with scale-out, to the state machine its role may start.
    if scale_out:
        check(env.get("EAGLESENSE_STATE_MACHINE_ARN") == STATE_MACHINE_ARN,
              f"{where}: EAGLESENSE_STATE_MACHINE_ARN is {env.get('EAGLESENSE_STATE_MACHINE_ARN')}, "
              f"expected {STATE_MACHINE_ARN}")
    else:
        check("EAGLESENSE_STATE_MACHINE_ARN" not in env,
              f"{where}: EAGLESENSE_STATE_MACHINE_ARN set without scale-out: {env.get('EAGLESENSE_STATE_MACHINE_ARN')}")
    # The allow-list: in the environment only when given (an empty EAGLESENSE_CLIENTS would be an error).
    if clients:
        check(env.get("EAGLESENSE_CLIENTS") == {"Ref": "AllowedClients"},
              f"{where}: EAGLESENSE_CLIENTS is {env.get('EAGLESENSE_CLIENTS')}, expected AllowedClients")
    else:
        check("EAGLESENSE_CLIENTS" not in env,
              f"{where}: EAGLESENSE_CLIENTS set without AllowedClients: {env.get('EAGLESENSE_CLIENTS')}")
    check_rendered(use_kms, use_vpc, workers, owner, clients, where)
    check_scale_out_roles(resources, use_kms, scale_out, where)
    return resources


def check_rendered(use_kms, use_vpc, workers, owner, clients, where):
    """The policy as IAM receives it for a stack (cfn_template.role_policies): the DynamoDB ARNs are the
    table and its index, the client account is the one asked for, nothing on "*" but the VPC actions."""
    template, params = stack_params(use_kms, use_vpc, workers, owner, clients)
    params["TableName"] = "acme-table"
    doc, = cfn.role_policies(template, params, "ExporterRole", region="eu-west-1", account="111122223333").values()
    index = template["Resources"]["ExporterFunction"]["Properties"]["Environment"]["Variables"]["EAGLESENSE_INDEX_NAME"]
    check(index == INDEX_NAME, f"the function queries {index}")
    gsi, = template["Resources"]["EventsTable"]["Properties"]["GlobalSecondaryIndexes"]
    check(gsi["IndexName"] == INDEX_NAME, f"the table's index is {gsi['IndexName']}, the role's {INDEX_NAME}")
    ddb = {a: as_list(st["Resource"]) for st in doc["Statement"] for a in as_list(st["Action"])
           if a.startswith("dynamodb:")}
    check(ddb == {"dynamodb:Scan": ["arn:aws:dynamodb:eu-west-1:111122223333:table/acme-table"],
                  "dynamodb:Query": [f"arn:aws:dynamodb:eu-west-1:111122223333:table/acme-table/index/{INDEX_NAME}"]},
          f"{where}: rendered DynamoDB grants {ddb}")
    # Rendered for a stack, the hand-off's ARN is the state machine's own (from its StateMachineName).
    states = {a: as_list(st["Resource"]) for st in doc["Statement"] for a in as_list(st["Action"])
              if a.startswith("states:")}
    names = cfn.stack_names(template, params, region="eu-west-1", account="111122223333")
    if workers > 1:
        check(states == {"states:StartExecution": [names["ExportStateMachine"]]},
              f"{where}: rendered Step Functions grants {states}, expected StartExecution on "
              f"{names['ExportStateMachine']} only")
        fn_env = cfn.substitute(cfn.active_resources(template, params)["ExporterFunction"]["Properties"]
                                ["Environment"]["Variables"], names)
        check(fn_env.get("EAGLESENSE_STATE_MACHINE_ARN") == names["ExportStateMachine"],
              f"{where}: rendered EAGLESENSE_STATE_MACHINE_ARN {fn_env.get('EAGLESENSE_STATE_MACHINE_ARN')}, "
              f"expected {names['ExportStateMachine']}")
    else:
        check(states == {}, f"{where}: Step Functions grants without scale-out: {states}")
    # Rendered, the allow-list grant is GetObject on the ops bucket's config/ prefix (the object
    # s3://acme-events-ops/config/clients.txt is under it), and the environment holds the value as given.
    config = [(st["Sid"], as_list(st["Action"]), as_list(st["Resource"])) for st in doc["Statement"]
              if any("/config/" in r for r in as_list(st["Resource"]))]
    want = [("ReadClientList", ["s3:GetObject"], ["arn:aws:s3:::acme-events-ops/config/*"])] if clients else []
    check(config == want, f"{where}: rendered grants on config/ {config}, expected {want}")
    fn_env = cfn.substitute(cfn.active_resources(template, params)["ExporterFunction"]["Properties"]
                            ["Environment"]["Variables"], names)
    check(fn_env.get("EAGLESENSE_CLIENTS") == (clients or None),
          f"{where}: rendered EAGLESENSE_CLIENTS {fn_env.get('EAGLESENSE_CLIENTS')!r}, expected {clients or None!r}")
    for st in doc["Statement"]:
        if any(r.startswith("arn:aws:s3:::acme-events-*") for r in as_list(st["Resource"])):
            check(st.get("Condition") == {"StringEquals": {"s3:ResourceAccount": owner or "111122223333"}},
                  f"{where}: rendered {st['Sid']} condition {st.get('Condition')}")
        for r in as_list(st["Resource"]):
            check(r != "*" or st["Sid"] == "VpcNetworkInterfaces", f"{where}: rendered {st['Sid']} on \"*\"")
            check(r != "arn:aws:s3:::acme-events-ops/*", f"{where}: rendered {st['Sid']} on the whole ops bucket")


SCALE_OUT_RESOURCES = {"StateMachineLogGroup": "AWS::Logs::LogGroup", "StateMachineRole": "AWS::IAM::Role",
                       "ExportStateMachine": "AWS::StepFunctions::StateMachine", "ScheduleRole": "AWS::IAM::Role",
                       "StateMachineFailedAlarm": "AWS::CloudWatch::Alarm"}
STATE_MACHINE_NAME = "${AWS::StackName}-export"
# The state machine role, action -> its exact resources.
LOG_DELIVERY_ACTIONS = {
    "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}
STATE_MACHINE_ROLE = {
    "lambda:InvokeFunction": [{"Fn::GetAtt": ["ExporterFunction", "Arn"]}, {"Fn::Sub": "${ExporterFunction.Arn}:*"}],
    "states:StartExecution": [{"Fn::Sub": "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:"
                                          + STATE_MACHINE_NAME}],
    "states:DescribeExecution": [{"Fn::Sub": "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:"
                                             + STATE_MACHINE_NAME + "/*"}],
    "states:StopExecution": [{"Fn::Sub": "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:"
                                         + STATE_MACHINE_NAME + "/*"}],
    "s3:GetObject": [STAGING_CLIENT_LIST],
    **{a: ["*"] for a in LOG_DELIVERY_ACTIONS},
}
STATE_MACHINE_ROLE_KMS = {"kms:Decrypt": [{"Fn::GetAtt": ["DataKey", "Arn"]}]}


def exact_statements(statements, expected, where):
    """Every statement Allow, no Not*/Principal/Condition, each action once, on exactly its resources."""
    granted = {}
    for st in statements:
        sid = st.get("Sid", "?")
        check(st.get("Effect") == "Allow", f"{where}: statement {sid} is not Effect Allow")
        for forbidden in ("NotAction", "NotResource", "Principal", "NotPrincipal", "Condition"):
            check(forbidden not in st, f"{where}: statement {sid} has {forbidden}")
        actions = as_list(st["Action"])
        resources_of = as_list(st["Resource"])
        for a in actions:
            check("*" not in a, f"{where}: statement {sid} has a wildcard action {a}")
            check(a not in granted, f"{where}: {a} granted twice")
            granted[a] = resources_of
            want = expected.get(a)
            check(want is not None and sorted(map(repr, resources_of)) == sorted(map(repr, want)),
                  f"{where}: {a} on {resources_of}, expected {want}")
        if "*" in resources_of:
            check(set(actions) <= LOG_DELIVERY_ACTIONS,
                  f"{where}: statement {sid} puts {actions} on \"*\": only the log-delivery actions may")
    check(set(granted) == set(expected),
          f"{where}: actions differ: extra {sorted(set(granted) - set(expected))}, "
          f"missing {sorted(set(expected) - set(granted))}")


def check_scale_out_roles(resources, use_kms, scale_out, where):
    present = {k: r["Type"] for k, r in resources.items() if k in SCALE_OUT_RESOURCES}
    target, = resources["HourlySchedule"]["Properties"]["Targets"]
    concurrency = resources["ExporterFunction"]["Properties"]["ReservedConcurrentExecutions"]
    if not scale_out:
        check(present == {}, f"{where}: scale-out resources exist with ScaleOutWorkers=1: {sorted(present)}")
        check(target["Arn"] == {"Fn::GetAtt": ["ExporterFunction", "Arn"]} and "RoleArn" not in target,
              f"{where}: the schedule must invoke the function: {target}")
        check("SchedulePermission" in resources, f"{where}: no permission for the schedule to invoke the function")
        check(concurrency == 1, f"{where}: reserved concurrency {concurrency}, expected 1")
        return
    check(present == SCALE_OUT_RESOURCES, f"{where}: scale-out resources {present}")
    check("SchedulePermission" not in resources,
          f"{where}: the function keeps an invoke permission for the schedule, which starts the state machine")
    check(target["Arn"] == {"Ref": "ExportStateMachine"}
          and target["RoleArn"] == {"Fn::GetAtt": ["ScheduleRole", "Arn"]},
          f"{where}: the schedule must start the state machine with ScheduleRole: {target}")
    check(set(target["RetryPolicy"]) == {"MaximumRetryAttempts", "MaximumEventAgeInSeconds"}
          and target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}},
          f"{where}: the state machine target lost the retry policy or the dead-letter queue: {target}")
    check(concurrency == {"Ref": "ScaleOutMaxConcurrency"},
          f"{where}: reserved concurrency {concurrency}, expected the state machine's (ScaleOutMaxConcurrency)")

    expected = dict(STATE_MACHINE_ROLE)
    if use_kms:
        expected.update(STATE_MACHINE_ROLE_KMS)  # the ItemReader reads an SSE-KMS object
    exact_statements(role_statements(resources, "StateMachineRole"), expected, f"{where} StateMachineRole")
    trust = as_list(resources["StateMachineRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"])
    check(len(trust) == 1 and trust[0]["Principal"] == {"Service": "states.amazonaws.com"}
          and trust[0]["Action"] == "sts:AssumeRole", f"{where}: StateMachineRole trust {trust}")

    exact_statements(role_statements(resources, "ScheduleRole"),
                     {"states:StartExecution": [{"Ref": "ExportStateMachine"}]}, f"{where} ScheduleRole")
    trust = as_list(resources["ScheduleRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"])
    check(len(trust) == 1 and trust[0]["Principal"] == {"Service": "events.amazonaws.com"}
          and trust[0]["Action"] == "sts:AssumeRole", f"{where}: ScheduleRole trust {trust}")

    sm = resources["ExportStateMachine"]["Properties"]
    check(sm["RoleArn"] == {"Fn::GetAtt": ["StateMachineRole", "Arn"]}, f"{where}: state machine role {sm['RoleArn']}")
    check(sm["StateMachineName"] == {"Fn::Sub": STATE_MACHINE_NAME},
          f"{where}: the state machine's name must be the one its role's ARNs are built from: {sm['StateMachineName']}")
    check("TracingConfiguration" not in sm, f"{where}: tracing is on, but the role has no X-Ray actions")


def check_conditional_statements():
    """The KMS and VPC statements sit behind Fn::If on UseKms / UseVpc, which follow the parameters."""
    template = cfn.load()
    statements = template["Resources"]["ExporterRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    conditional = {}
    for st in statements:
        if "Fn::If" in st:
            name, when_true, when_false = st["Fn::If"]
            check(when_false == {"Ref": "AWS::NoValue"}, f"Fn::If {name}: the false branch must be AWS::NoValue")
            conditional.setdefault(name, set()).add(when_true["Sid"])
    check(conditional == {"UseKms": set(KMS_STATEMENTS), "UseVpc": set(VPC_STATEMENTS),
                          "ScaleOut": set(SCALE_OUT_STATEMENTS), "HasAllowedClients": set(CLIENT_LIST_STATEMENTS)},
          f"conditional statements: {conditional}")
    for st in statements:
        if "Fn::If" not in st and st["Resource"] == CLIENT_OBJECTS:
            check(st.get("Condition") == client_condition(CLIENT_ACCOUNT),
                  f"{st['Sid']}: the client buckets' account must be ExpectedBucketOwner, else the stack's: "
                  f"{st.get('Condition')}")
    env = template["Resources"]["ExporterFunction"]["Properties"]["Environment"]["Variables"]
    check(env["EAGLESENSE_EXPECTED_BUCKET_OWNER"] == CLIENT_ACCOUNT,
          f"EAGLESENSE_EXPECTED_BUCKET_OWNER is {env['EAGLESENSE_EXPECTED_BUCKET_OWNER']}")
    # The ops bucket is the stack's own, whatever account owns the client buckets: without its own
    # setting it would default to the clients' account and every ops-bucket request would get 403.
    check(env.get("EAGLESENSE_OPS_BUCKET_OWNER") == {"Ref": "AWS::AccountId"},
          f"EAGLESENSE_OPS_BUCKET_OWNER is {env.get('EAGLESENSE_OPS_BUCKET_OWNER')}, not the stack's account")
    check(env.get("EAGLESENSE_STATE_MACHINE_ARN")
          == {"Fn::If": ["ScaleOut", STATE_MACHINE_ARN, {"Ref": "AWS::NoValue"}]},
          f"EAGLESENSE_STATE_MACHINE_ARN must be the state machine's ARN under ScaleOut only: "
          f"{env.get('EAGLESENSE_STATE_MACHINE_ARN')}")
    check(env.get("EAGLESENSE_CLIENTS")
          == {"Fn::If": ["HasAllowedClients", {"Ref": "AllowedClients"}, {"Ref": "AWS::NoValue"}]},
          f"EAGLESENSE_CLIENTS must be AllowedClients when it is set, absent otherwise: {env.get('EAGLESENSE_CLIENTS')}")
    check(template["Conditions"]["HasAllowedClients"]
          == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AllowedClients"}, ""]}]},
          f"HasAllowedClients is {template['Conditions']['HasAllowedClients']}")
    check_allowed_clients_parameter(template)
    owner = template["Parameters"]["ExpectedBucketOwner"]
    check(owner.get("Default") == "" and owner.get("AllowedPattern") == "|[0-9]{12}",
          f"ExpectedBucketOwner must default to empty (this account) and be an account id: {owner}")
    has_owner = template["Conditions"]["HasExpectedOwner"]
    check(has_owner == {"Fn::Not": [{"Fn::Equals": [{"Ref": "ExpectedBucketOwner"}, ""]}]},
          f"HasExpectedOwner is {has_owner}")
    conds = template["Conditions"]
    check(conds["UseKms"] == {"Fn::Equals": [{"Ref": "UseKmsKey"}, "true"]}, f"UseKms is {conds['UseKms']}")
    check(conds["UseVpc"] == {"Fn::Equals": [{"Ref": "EnableVpc"}, "true"]}, f"UseVpc is {conds['UseVpc']}")
    check(template["Parameters"]["UseKmsKey"]["Default"] == "false", "UseKmsKey must be off by default")
    check(template["Parameters"]["EnableVpc"]["Default"] == "false", "EnableVpc must be off by default")
    workers_is_1 = {"Fn::Equals": [{"Fn::Join": ["", [{"Ref": "ScaleOutWorkers"}]]}, "1"]}
    check(conds["ScaleOut"] == {"Fn::Not": [workers_is_1]}, f"ScaleOut is {conds['ScaleOut']}")
    check(conds["SingleFunction"] == workers_is_1, f"SingleFunction is {conds['SingleFunction']}")
    workers = template["Parameters"]["ScaleOutWorkers"]
    check((workers["Type"], workers["Default"], workers["MinValue"]) == ("Number", 1, 1),
          f"ScaleOutWorkers must be a Number, 1 (off) by default and at least 1: {workers}")
    for name, r in template["Resources"].items():
        if name in SCALE_OUT_RESOURCES:
            check(r.get("Condition") == "ScaleOut", f"{name} must have Condition ScaleOut")
    check(template["Resources"]["SchedulePermission"].get("Condition") == "SingleFunction",
          "SchedulePermission must have Condition SingleFunction")
    check(template["Outputs"]["StateMachineArn"].get("Condition") == "ScaleOut",
          "output StateMachineArn must have Condition ScaleOut")


def check_allowed_clients_parameter(template):
    """AllowedClients: a String, empty by default, in the Export group; its AllowedPattern (CloudFormation
    matches the whole value, as re.fullmatch) takes the forms the exporter reads and refuses the rest."""
    param = template["Parameters"]["AllowedClients"]
    check(param.get("Type") == "String" and param.get("Default") == "",
          f"AllowedClients must be a String, empty (every valid client) by default: {param}")
    groups = {g["Label"]["default"]: g["Parameters"]
              for g in template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]}
    check("AllowedClients" in groups.get("Export", []), f"AllowedClients is not in the Export group: {groups}")
    pattern = param.get("AllowedPattern", "")
    for value in ("", "acme", "acme,initech", "client-000,client-001,x9", "s3://acme-events-ops/config/clients.txt",
                  "s3://other.bucket/lists/onboarded"):
        check(re.fullmatch(pattern, value), f"AllowedPattern {pattern!r} refuses {value!r}")
    for value in ("Acme", "acme, initech", "acme,", ",acme", "acme,,initech", "-acme", "acme-", "a/b", "a..b",
                  "s3://", "s3://acme-events-ops", "s3://acme-events-ops/", "S3://acme-events-ops/config/x",
                  "s3://Acme/config/x", "https://acme-events-ops/config/x"):
        check(not re.fullmatch(pattern, value), f"AllowedPattern {pattern!r} takes {value!r}")


def check_invariants(resources):
    fn = resources["ExporterFunction"]["Properties"]
    check(fn["Runtime"] == "provided.al2023", f"runtime {fn['Runtime']}")
    check(fn["ReservedConcurrentExecutions"] == 1, "reserved concurrency must be 1 (runs never overlap)")
    check(fn["Architectures"] == [{"Ref": "Architecture"}], f"architectures {fn['Architectures']}")
    env = set(fn["Environment"]["Variables"])
    for var in ("DYNAMODB_TABLE_NAME", "S3_BUCKET_PREFIX", "EAGLESENSE_OPS_BUCKET", "OUTPUT_FORMAT",
                "EAGLESENSE_COMPRESSION", "EAGLESENSE_CATCH_UP_HOURS", "EAGLESENSE_EXPECTED_BUCKET_OWNER",
                "EAGLESENSE_METRICS", "LOG_LEVEL"):
        check(var in env, f"environment lacks {var}")
    check(fn["Environment"]["Variables"]["EAGLESENSE_METRICS"] == "emf", "EAGLESENSE_METRICS must be emf")

    table = resources["EventsTable"]["Properties"]
    check(table["BillingMode"] == "PAY_PER_REQUEST", "table billing")
    check(table["KeySchema"] == [{"AttributeName": "eventId", "KeyType": "HASH"}], "table key")
    check(table["DeletionProtectionEnabled"] is True, "table deletion protection")
    check(table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, "table PITR")
    check(table["TimeToLiveSpecification"]["Enabled"] is True, "table TTL")
    gsi, = table["GlobalSecondaryIndexes"]
    check(gsi["KeySchema"] == [{"AttributeName": "hourShard", "KeyType": "HASH"},
                               {"AttributeName": "time", "KeyType": "RANGE"}], f"GSI keys {gsi['KeySchema']}")
    check(gsi["Projection"] == {"ProjectionType": "ALL"}, "GSI projection")

    template = cfn.load()
    check(template["Parameters"]["ScheduleExpression"]["Default"] == "cron(5 * * * ? *)", "schedule")
    target, = resources["HourlySchedule"]["Properties"]["Targets"]
    check(set(target["RetryPolicy"]) == {"MaximumRetryAttempts", "MaximumEventAgeInSeconds"}, "retry policy")
    check(target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}}, "schedule DLQ")

    for name in ("OpsBucket",):
        b = resources[name]["Properties"]
        check(b["VersioningConfiguration"] == {"Status": "Enabled"}, f"{name} versioning")
        check(all(b["PublicAccessBlockConfiguration"].values()) and len(b["PublicAccessBlockConfiguration"]) == 4,
              f"{name} public access block")
    policy = resources["OpsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    check(policy["Effect"] == "Deny" and policy["Condition"] == {"Bool": {"aws:SecureTransport": "false"}},
          "ops bucket policy must deny non-TLS access")

    client = cfn.load(cfn.CLIENT_TEMPLATE)
    check(not any(r["Type"].startswith("AWS::IAM::") for r in client["Resources"].values()),
          "client-bucket.yaml must not create IAM resources")
    cparams = cfn.parameter_values(client, {"ClientId": "acme", "BucketPrefix": "acme-events"})
    cres = cfn.active_resources(client, cparams)
    cb = cres["ClientBucket"]["Properties"]
    check(cb["BucketName"] == {"Fn::Sub": "${BucketPrefix}-${ClientId}"},
          "client buckets must match the role's ${BucketPrefix}-* resource")
    check(cb["VersioningConfiguration"] == {"Status": "Enabled"}, "client bucket versioning")
    cpol = cres["ClientBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    check(len(cpol) == 1 and cpol[0]["Effect"] == "Deny", f"client bucket policy without reader: {cpol}")


def main():
    combos = list(itertools.product([False, True], [False, True], [1, 2, 1000], ["", "210987654321"],
                                    ALLOWED_CLIENTS))
    default_resources = None
    for use_kms, use_vpc, workers, owner, clients in combos:
        r = check_role(use_kms, use_vpc, workers, owner, clients)
        if not use_kms and not use_vpc and workers == 1 and not owner and not clients:
            default_resources = r
    check_conditional_statements()
    check_invariants(default_resources)
    failures[:] = [f for f in failures if f]
    if failures:
        print("FAIL:\n  " + "\n  ".join(failures))
        return 1
    print(f"ok: exporter role statements exact in {len(combos)} parameter combinations "
          f"({len(BASE_STATEMENTS)} base, +{len(KMS_STATEMENTS)} with UseKmsKey, +{len(VPC_STATEMENTS)} with "
          f"EnableVpc, +{len(SCALE_OUT_STATEMENTS)} with ScaleOutWorkers > 1, +{len(CLIENT_LIST_STATEMENTS)} with "
          "AllowedClients: GetObject on config/, EAGLESENSE_CLIENTS only then); s3:ResourceAccount on every "
          "client-bucket statement; ops-bucket statements only on their prefixes, ListBucket only with "
          "s3:prefix; DynamoDB only on the table and its index; hand-off (StartExecution, "
          "EAGLESENSE_STATE_MACHINE_ARN) to the stack's state machine only, with scale-out only; "
          f"scale-out: state machine role exact ({len(STATE_MACHINE_ROLE)} actions, +{len(STATE_MACHINE_ROLE_KMS)} "
          "with UseKmsKey; \"*\" only for log delivery), schedule role exact, none of it with ScaleOutWorkers=1; "
          "template invariants hold")
    return 0


if __name__ == "__main__":
    sys.exit(main())
