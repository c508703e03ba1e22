"""The roles are least privilege. The exporter role: for every combination of UseKmsKey, EnableVpc
and scale-out (ScaleOutWorkers 1 or more) its actions are exactly the expected list, each on the
expected resources, the KMS, VPC and scale-out additions only under their conditions, PutMetricData
only in the EagleSense namespace. With ScaleOutWorkers > 1 the state machine's role and the schedule's
role are exact too (every resource scoped; "*" only for the log-delivery actions, which take no
other), and with ScaleOutWorkers 1 neither exists, nor the state machine. Also checks the template
invariants a reader relies on (reserved concurrency, schedule target, environment, table shape).

Offline: reads cloudformation/*.yaml with cfn_template's loader. Exit 0 = pass.
"""
import itertools
import sys

import cfn_template as cfn

BASE_ACTIONS = {
    "dynamodb:Scan", "dynamodb:Query", "dynamodb:DescribeTable",
    "s3:PutObject", "s3:GetObject", "s3:ListBucket",
    "cloudwatch:PutMetricData",
    "logs:CreateLogStream", "logs:PutLogEvents",
    # Lambda sends a failed run's record to the EventInvokeConfig on-failure destination (the DLQ)
    # with the function's own role: without it the destination cannot be written.
    "sqs:SendMessage",
}
KMS_ACTIONS = {"kms:GenerateDataKey", "kms:Decrypt"}
VPC_ACTIONS = {
    "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
}
# Scale-out: the stages read and write staging/{hour}/ in the ops bucket with the base s3:GetObject,
# s3:PutObject and s3:ListBucket (already on the whole ops bucket); the finish stage deletes it.
SCALE_OUT_ACTIONS = {"s3:DeleteObject"}
STAGING = {"Fn::Sub": "${OpsBucket.Arn}/staging/*"}

TABLE = {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${TableName}"}
TABLE_INDEXES = {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${TableName}/index/*"}
EXPECTED_RESOURCES = {
    "dynamodb:Scan": [TABLE, TABLE_INDEXES],
    "dynamodb:Query": [TABLE, TABLE_INDEXES],
    "dynamodb:DescribeTable": [TABLE, TABLE_INDEXES],
    "s3:PutObject": [{"Fn::Sub": "arn:${AWS::Partition}:s3:::${BucketPrefix}-*/*"}],
    "s3:GetObject": [{"Fn::Sub": "${OpsBucket.Arn}/*"}],
    "s3:ListBucket": [{"Fn::GetAtt": ["OpsBucket", "Arn"]}],
    "cloudwatch:PutMetricData": ["*"],
    "logs:CreateLogStream": [{"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${ExporterLogGroup}:*"}],
    "logs:PutLogEvents": [{"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${ExporterLogGroup}:*"}],
    "sqs:SendMessage": [{"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}],
    "kms:GenerateDataKey": [{"Fn::GetAtt": ["DataKey", "Arn"]}],
    "kms:Decrypt": [{"Fn::GetAtt": ["DataKey", "Arn"]}],
    "s3:DeleteObject": [STAGING],
}
for action in VPC_ACTIONS:
    EXPECTED_RESOURCES[action] = ["*"]  # network interface actions only work on "*"

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


def stack_resources(use_kms, use_vpc, workers):
    template = cfn.load()
    params = cfn.parameter_values(template, {
        "ArtifactBucket": "artifacts", "ArtifactKey": "k.zip", "BucketPrefix": "acme-events",
        "UseKmsKey": str(use_kms).lower(), "EnableVpc": str(use_vpc).lower(),
        "SubnetIds": "subnet-0123abcd", "SecurityGroupId": "sg-0123abcd",
        "VpcId": "vpc-0123abcd", "RouteTableIds": "rtb-0123abcd", "ScaleOutWorkers": workers})
    return cfn.active_resources(template, params)


def check_role(use_kms, use_vpc, workers):
    resources = stack_resources(use_kms, use_vpc, workers)
    scale_out = workers > 1
    where = f"UseKmsKey={use_kms} EnableVpc={use_vpc} ScaleOutWorkers={workers}"
    statements = role_statements(resources)

    expected = set(BASE_ACTIONS)
    if use_kms:
        expected |= KMS_ACTIONS
    if use_vpc:
        expected |= VPC_ACTIONS
    if scale_out:
        expected |= SCALE_OUT_ACTIONS

    granted = {}
    for st in statements:
        sid = st.get("Sid", "?")
        check(st.get("Effect") == "Allow", f"{where}: statement {sid} is not Effect Allow")
        for forbidden in ("NotAction", "NotResource", "Principal", "NotPrincipal"):
            check(forbidden not in st, f"{where}: statement {sid} has {forbidden}")
        actions = as_list(st["Action"])
        for a in actions:
            check("*" not in a, f"{where}: statement {sid} has a wildcard action {a}")
            check(a not in granted, f"{where}: {a} granted twice")
            granted[a] = st
        resources_of = as_list(st["Resource"])
        for a in actions:
            want = EXPECTED_RESOURCES.get(a)
            check(want is not None and sorted(map(repr, resources_of)) == sorted(map(repr, want)),
                  f"{where}: {a} on {resources_of}, expected {want}")
        if "cloudwatch:PutMetricData" in actions:
            check(actions == ["cloudwatch:PutMetricData"],
                  f"{where}: PutMetricData shares its statement (and condition) with {actions}")
            check(st.get("Condition") == {"StringEquals": {"cloudwatch:namespace": "EagleSense"}},
                  f"{where}: PutMetricData condition is {st.get('Condition')}")
        else:
            check("Condition" not in st, f"{where}: statement {sid} has an unexpected condition {st.get('Condition')}")

    check(set(granted) == expected,
          f"{where}: actions differ from the list: extra {sorted(set(granted) - expected)}, "
          f"missing {sorted(expected - set(granted))}")

    trust = as_list(resources["ExporterRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"])
    check(len(trust) == 1 and trust[0]["Principal"] == {"Service": "lambda.amazonaws.com"}
          and trust[0]["Action"] == "sts:AssumeRole",
          f"{where}: the role must be assumable by Lambda only: {trust}")
    check_scale_out_roles(resources, use_kms, scale_out, where)
    return resources


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
    "s3:GetObject": [STAGING],
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
            conditional[name] = set(as_list(when_true["Action"]))
    check(conditional == {"UseKms": KMS_ACTIONS, "UseVpc": VPC_ACTIONS, "ScaleOut": SCALE_OUT_ACTIONS},
          f"conditional statements: {conditional}")
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
    combos = list(itertools.product([False, True], [False, True], [1, 2, 1000]))
    default_resources = None
    for use_kms, use_vpc, workers in combos:
        r = check_role(use_kms, use_vpc, workers)
        if not use_kms and not use_vpc and workers == 1:
            default_resources = r
    check_conditional_statements()
    check_invariants(default_resources)
    failures[:] = [f for f in failures if f]
    if failures:
        print("FAIL:\n  " + "\n  ".join(failures))
        return 1
    print(f"ok: exporter role actions exact in {len(combos)} parameter combinations "
          f"({len(BASE_ACTIONS)} base, +{len(KMS_ACTIONS)} with UseKmsKey, +{len(VPC_ACTIONS)} with EnableVpc, "
          f"+{len(SCALE_OUT_ACTIONS)} with ScaleOutWorkers > 1); PutMetricData limited to namespace EagleSense; "
          f"scale-out: state machine role exact ({len(STATE_MACHINE_ROLE)} actions, +{len(STATE_MACHINE_ROLE_KMS)} "
          "with UseKmsKey; \"*\" only for log delivery), schedule role exact, none of it with ScaleOutWorkers=1; "
          "template invariants hold")
    return 0


if __name__ == "__main__":
    sys.exit(main())
