"""Deploys cloudformation/template.yaml to moto_server's CloudFormation and checks what was created.

Only the 'moto' backend has CloudFormation (dynalite and s3rver do not): on 'local' this prints why and
exits 77 (SKIP_EXIT_CODE), which ctest reports as skipped (SKIP_RETURN_CODE), never as passed. On 'moto':
1. scripts/deploy.sh (the real path: aws s3 cp of a small package under its content-hash key, then
   aws cloudformation deploy through a change set, with Debian's /usr/bin/aws and --endpoint-url; a
   template above 51,200 bytes uploaded to the artifacts bucket by the CLI, see CLI_S3_PLUGIN)
   creates the stack with default options; CREATE_COMPLETE, the expected resources, and their
   configuration as moto's services report it.
2. boto3 CreateStack of a variant with UseKmsKey=true, EnableVpc=true (moto VPC, subnets, security
   group, route table made first), CreateTable=false (it reuses the first stack's table) and
   AllowedClients (an s3:// list object: the role's ReadClientList reads the ops bucket's config/ only;
   the default stack has no such statement); above 51,200 bytes the template is given as a TemplateURL
   in the artifacts bucket, as AWS requires. The function's environment (EAGLESENSE_CLIENTS only with
   AllowedClients) is checked on a private moto_server (below).
3. scripts/deploy.sh --add-client on that variant: a client bucket stack, encrypted with its key.

moto 5.2 accepts every resource type of the templates, but creates nothing for some of them (it
logs "No Moto CloudFormation support for ..." and lists them with empty ids): MOTO_SKIPS below. They
are checked statically by tests/cloudformation (cfn-lint, policy_test.py). moto also creates a
supported resource without some of its properties (table TTL, point-in-time recovery, deletion
protection; bucket versioning, public access block, lifecycle, ownership controls; the function's
Architectures); this test checks
only what moto applies. A stack created through a change set (aws cloudformation deploy) has no
outputs in moto, so step 3 adds the client to the stack of step 2 (created with CreateStack).
"""
import ast
import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cloudformation"))
import es_harness as h  # noqa: E402
import cfn_template as cfn  # noqa: E402

MOTO_SKIPS = {"AWS::CloudWatch::Alarm", "AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy",
              "AWS::Lambda::EventInvokeConfig", "AWS::SNS::Subscription"}
ACCOUNT = "123456789012"  # moto's default account
SKIP_EXIT_CODE = 77  # tests/integration/CMakeLists.txt: ctest's SKIP_RETURN_CODE
REGION = "us-east-1"
AWS_CLI = "/usr/bin/aws"  # Debian's awscli: ignores AWS_ENDPOINT_URL_*, so --endpoint-url is passed

env = h.load_env()
if env.get("EAGLESENSE_BACKEND") != "moto":
    print(f"SKIP: backend '{env.get('EAGLESENSE_BACKEND')}' has no CloudFormation; "
          "the deploy test runs on the moto backend (moto.cloudformation_test)")
    sys.exit(SKIP_EXIT_CODE)
if not os.access(AWS_CLI, os.X_OK):
    sys.exit(f"{AWS_CLI} is missing: install Debian's awscli (scripts/setup.sh does)")

ENDPOINT = env["AWS_ENDPOINT_URL_S3"]  # one moto_server serves every service
session = h.session(env)


def client(service):
    return session.client(service, endpoint_url=ENDPOINT, region_name=REGION)


# `aws cloudformation deploy --s3-bucket` (deploy.sh's path for a template above 51,200 bytes) uploads the
# template with an S3 client of its own, made without --endpoint-url (AWS CLI 2.9.19,
# awscli/customizations/cloudformation/deploy.py; this CLI also ignores AWS_ENDPOINT_URL*): the upload goes
# to S3 on amazonaws.com, not moto. The CLI then passes CloudFormation a TemplateURL
# https://s3.REGION.amazonaws.com/BUCKET/KEY, which moto reads from its own S3. So deploy.sh runs here with
# this plugin (the CLI's legacy plugins, loaded from the config file's [plugins] section): just before
# signing, it sends a request for an S3 host of amazonaws.com to moto_server instead, path-style. Nothing else
# is changed: every other call already goes to --endpoint-url.
CLI_S3_PLUGIN = """
import os
from urllib.parse import urlsplit, urlunsplit


def awscli_initialize(events):
    events.register("before-sign.s3", to_moto)


def to_moto(request, **kwargs):
    url = urlsplit(request.url)
    host = url.hostname or ""
    if not host.endswith(".amazonaws.com"):
        return
    path = url.path if host.startswith("s3.") else "/" + host.split(".s3.", 1)[0] + url.path
    moto = urlsplit(os.environ["ES_TEST_S3_ENDPOINT"])
    request.url = urlunsplit((moto.scheme, moto.netloc, path, url.query, ""))
"""


def cli_config(tmp):
    """An AWS CLI config file loading CLI_S3_PLUGIN (written to tmp)."""
    plugin_dir = os.path.join(tmp, "aws-cli-plugins")
    os.makedirs(plugin_dir, exist_ok=True)
    with open(os.path.join(plugin_dir, "es_s3_to_moto.py"), "w") as f:
        f.write(CLI_S3_PLUGIN)
    path = os.path.join(tmp, "aws-cli-config")
    with open(path, "w") as f:
        f.write(f"[plugins]\ncli_legacy_plugin_path = {plugin_dir}\nes_s3_to_moto = es_s3_to_moto\n")
    return path


def deploy_sh(args, tmp):
    child = {
        "PATH": "/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/tmp"),
        "AWS_ACCESS_KEY_ID": env["AWS_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": env["AWS_SECRET_ACCESS_KEY"],
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": cli_config(tmp),
        "ES_TEST_S3_ENDPOINT": ENDPOINT,
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CLI": AWS_CLI,
    }
    cmd = [os.path.join(cfn.REPO_ROOT, "scripts", "deploy.sh"), "--region", REGION,
           "--endpoint-url", ENDPOINT] + args
    proc = subprocess.run(cmd, env=child, capture_output=True, text=True, timeout=600)
    print(f"$ scripts/deploy.sh {' '.join(args)}\n{proc.stdout}{proc.stderr}")
    h.check(proc.returncode == 0, f"deploy.sh exited {proc.returncode}")
    return proc


def stack_status(name):
    return client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]


def created_resources(name):
    """{logical id: (type, physical id)} of what moto created; skipped types are listed without ids."""
    out = {}
    paginator = client("cloudformation").get_paginator("list_stack_resources")
    for page in paginator.paginate(StackName=name):
        for r in page["StackResourceSummaries"]:
            if r.get("LogicalResourceId"):
                out[r["LogicalResourceId"]] = (r["ResourceType"], r.get("PhysicalResourceId", ""))
    return out


def expect_resources(name, template, params):
    active = cfn.active_resources(template, params)
    want = {k: r["Type"] for k, r in active.items() if r["Type"] not in MOTO_SKIPS}
    skipped = sorted(f"{k} ({r['Type']})" for k, r in active.items() if r["Type"] in MOTO_SKIPS)
    got = created_resources(name)
    h.check({k: t for k, (t, _) in got.items()} == want,
            f"{name}: resources {sorted(got)} != expected {sorted(want)}")
    for k, (t, physical) in got.items():
        # moto gives a Lambda permission no physical id (AWS: the statement id).
        h.check(physical or t == "AWS::Lambda::Permission", f"{name}: {k} ({t}) has no physical id")
    h.check(stack_status(name) == "CREATE_COMPLETE", f"{name}: status {stack_status(name)}")
    print(f"{name}: CREATE_COMPLETE, {len(got)} resources created: {', '.join(sorted(got))}")
    print(f"{name}: accepted but not created by moto: {', '.join(skipped)}")
    return got


def role_statements(role_name):
    iam = client("iam")
    statements = []
    for policy in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        doc = iam.get_role_policy(RoleName=role_name, PolicyName=policy)["PolicyDocument"]
        if isinstance(doc, str):  # moto 5.2 returns the template's dict as its Python repr
            try:
                doc = json.loads(doc)
            except ValueError:
                doc = ast.literal_eval(doc)
        statements += [st for st in doc["Statement"] if st]  # moto keeps the AWS::NoValue of an Fn::If as None
    return statements


def role_actions(role_name):
    actions = set()
    for st in role_statements(role_name):
        a = st["Action"]
        actions |= set(a if isinstance(a, list) else [a])
    return actions


def read_client_list(role_name):
    """The role's ReadClientList statement(s) as (actions, resources)."""
    return [(sorted(st["Action"] if isinstance(st["Action"], list) else [st["Action"]]),
             st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]])
            for st in role_statements(role_name) if st.get("Sid") == "ReadClientList"]


BASE_ACTIONS = {"dynamodb:Scan", "dynamodb:Query", "s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload",
                "s3:DeleteObject", "s3:ListBucket", "logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage"}


# --- Lambda, on a private moto_server without authentication -------------------------------------------
# moto 5.2.1 answers SignatureDoesNotMatch to every correctly signed Lambda API call (GetFunction,
# ListFunctions, ...) once authentication is on, as it is on the fixture's server; its CloudFormation
# creates the function fine. So the function's configuration is checked on a moto_server of this test's
# own, started without authentication and stopped at the end.

def find_moto_server():
    proc = subprocess.run(["bash", "-c", f"source {cfn.REPO_ROOT}/scripts/lib/common.sh && es_find_tool moto_server"],
                          capture_output=True, text=True)
    if proc.returncode != 0 or not proc.stdout.strip():
        sys.exit("moto_server not found on PATH or under $HOME/.pyenv/versions/*/bin (it ships with the "
                 "machine image's Python): the Lambda part of this test cannot run")
    return proc.stdout.strip()


def start_private_moto(tmp):
    import signal
    import socket
    import time
    import urllib.request
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = open(os.path.join(tmp, "moto.log"), "wb")
    proc = subprocess.Popen([find_moto_server(), "-H", "127.0.0.1", "-p", str(port)], stdin=subprocess.DEVNULL,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    endpoint = f"http://127.0.0.1:{port}"

    def stop():
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2) as r:
                if r.status == 200:
                    return endpoint, stop
        except OSError:
            time.sleep(0.2)
    stop()
    sys.exit(f"the private moto_server did not start; log: {open(os.path.join(tmp, 'moto.log')).read()[-2000:]}")


def check_lambda_on_private_moto(tmp, package, key):
    import boto3
    endpoint, stop = start_private_moto(tmp)
    try:
        plain = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                      region_name=REGION)

        def pc(service):
            return plain.client(service, endpoint_url=endpoint)
        pc("s3").create_bucket(Bucket="artifacts")
        pc("s3").put_object(Bucket="artifacts", Key=key, Body=package)
        ec2 = pc("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.42.{i}.0/24")["Subnet"]["SubnetId"] for i in (1, 2)]
        sg = ec2.create_security_group(GroupName="fn", Description="exporter", VpcId=vpc)["GroupId"]
        rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        source = cfn.template_source(pc("s3"), "artifacts", region=REGION)
        cf = pc("cloudformation")
        stacks = {
            "plain": {"BucketPrefix": "acme-a", "TableName": "events-a"},
            "kmsvpc": {"BucketPrefix": "acme-b", "TableName": "events-b", "Architecture": "arm64",
                       "UseKmsKey": "true", "EnableVpc": "true", "SubnetIds": ",".join(subnets),
                       "SecurityGroupId": sg, "VpcId": vpc, "RouteTableIds": rtb,
                       "AllowedClients": "acme,globex"},
        }
        for stack, overrides in stacks.items():
            overrides.update({"ArtifactBucket": "artifacts", "ArtifactKey": key})
            cf.create_stack(StackName=stack, Capabilities=["CAPABILITY_NAMED_IAM"], **source,
                            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in overrides.items()])
            status = cf.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
            h.check(status == "CREATE_COMPLETE", f"private moto: {stack} {status}")

        lam = pc("lambda")
        fn_name, prefix, table = "plain-exporter", "acme-a", "events-a"
        conf = lam.get_function_configuration(FunctionName=fn_name)
        h.check(conf["Runtime"] == "provided.al2023", f"runtime {conf['Runtime']}")
        h.check(conf.get("Architectures") == ["x86_64"], f"architectures {conf.get('Architectures')}")
        h.check((conf["MemorySize"], conf["Timeout"]) == (1024, 600), f"memory/timeout {conf['MemorySize']}/{conf['Timeout']}")
        h.check(conf["CodeSha256"] == base64.b64encode(hashlib.sha256(package).digest()).decode(),
                "the function's code is not the uploaded package")
        variables = {k: str(v) for k, v in conf["Environment"]["Variables"].items()}
        want_vars = {
            "DYNAMODB_TABLE_NAME": table, "S3_BUCKET_PREFIX": prefix, "EAGLESENSE_OPS_BUCKET": f"{prefix}-ops",
            "OUTPUT_FORMAT": "json", "EAGLESENSE_COMPRESSION": "none", "EAGLESENSE_READ_MODE": "scan",
            "EAGLESENSE_INDEX_NAME": "hourShard-time-index", "EAGLESENSE_CATCH_UP_HOURS": "6",
            "EAGLESENSE_EXPECTED_BUCKET_OWNER": ACCOUNT, "EAGLESENSE_OPS_BUCKET_OWNER": ACCOUNT,
            "EAGLESENSE_SSE": "AES256", "EAGLESENSE_METRICS": "emf",
            "LOG_LEVEL": "info"}
        h.check(variables == want_vars, f"environment {variables}")  # no EAGLESENSE_CLIENTS: AllowedClients empty
        concurrency = lam.get_function_concurrency(FunctionName=fn_name).get("ReservedConcurrentExecutions")
        h.check(concurrency == 1, f"reserved concurrency {concurrency}")
        rule, = [r["PhysicalResourceId"] for r in cf.list_stack_resources(StackName="plain")["StackResourceSummaries"]
                 if r["LogicalResourceId"] == "HourlySchedule"]
        rule_arn = pc("events").describe_rule(Name=rule)["Arn"]
        policy = json.loads(lam.get_policy(FunctionName=fn_name)["Policy"])
        h.check(any(st.get("Principal") in ({"Service": "events.amazonaws.com"}, "events.amazonaws.com")
                    and rule_arn in json.dumps(st.get("Condition", {})) for st in policy["Statement"]),
                f"no invoke permission for the rule: {policy}")

        outputs = {o["OutputKey"]: o["OutputValue"] for o in cf.describe_stacks(StackName="kmsvpc")["Stacks"][0]["Outputs"]}
        vconf = lam.get_function_configuration(FunctionName="kmsvpc-exporter")
        # (moto's CloudFormation drops Architectures: its functions are all x86_64, so arm64 is not checked)
        h.check(sorted(vconf["VpcConfig"]["SubnetIds"]) == sorted(subnets) and vconf["VpcConfig"]["SecurityGroupIds"] == [sg],
                f"vpc config {vconf.get('VpcConfig')}")
        vvars = vconf["Environment"]["Variables"]
        h.check(vvars["EAGLESENSE_SSE"] == "aws:kms" and vvars["EAGLESENSE_KMS_KEY_ID"] == outputs["KmsKeyArn"],
                f"SSE env {vvars}")
        h.check(vvars.get("EAGLESENSE_CLIENTS") == "acme,globex",
                f"EAGLESENSE_CLIENTS {vvars.get('EAGLESENSE_CLIENTS')!r}, expected AllowedClients 'acme,globex'")
        print("private moto (no auth): function runtime, architecture, memory, timeout, code, environment, "
              "reserved concurrency 1, invoke permission for the rule; VPC + SSE-KMS + AllowedClients variant: ok")
    finally:
        stop()


def main():
    name = h.unique("escfn")
    template = cfn.load()
    s3 = client("s3")
    artifacts = f"{name}-artifacts"
    s3.create_bucket(Bucket=artifacts)

    # A small package laid out as scripts/package_lambda.sh does (moto does not run it).
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("bootstrap"), "#!/bin/sh\nexit 1\n")
        z.writestr("bin/eaglesense", "")
        z.writestr("lib/ld-linux-x86-64.so.2", "")
    package = buf.getvalue()
    tmp = tempfile.mkdtemp()
    zip_path = os.path.join(tmp, "eaglesense-lambda-x86_64.zip")
    with open(zip_path, "wb") as f:
        f.write(package)
    key = f"eaglesense/x86_64/{hashlib.sha256(package).hexdigest()}.zip"

    # --- 1. the default stack, by scripts/deploy.sh ---------------------------------------------------
    main_stack = f"{name}-main"
    prefix = f"{name}-a"
    table = f"{name}-events"
    proc = deploy_sh(["--stack", main_stack, "--artifact-bucket", artifacts, "--package", zip_path,
                      "--param", f"BucketPrefix={prefix}", "--param", f"TableName={table}",
                      "--param", "AlarmEmail=ops@example.com"], tmp)
    s3.head_object(Bucket=artifacts, Key=key)  # uploaded under its content hash
    # A template above CloudFormation's 51,200 bytes inline goes through the artifacts bucket.
    # (listed without Prefix: moto_server answers SignatureDoesNotMatch to a signed ListObjectsV2 whose prefix
    # holds a "/")
    templates = len([o for o in s3.list_objects_v2(Bucket=artifacts).get("Contents", [])
                     if o["Key"].startswith("eaglesense/templates/")])
    if os.path.getsize(cfn.TEMPLATE) > cfn.TEMPLATE_BODY_LIMIT:
        h.check("--s3-bucket" in proc.stdout and templates == 1,
                f"the template ({os.path.getsize(cfn.TEMPLATE)} bytes) was not deployed through S3: "
                f"{templates} object(s) under eaglesense/templates/")
    else:
        h.check("--s3-bucket" not in proc.stdout and templates == 0, "a small template went through S3")
    params = cfn.parameter_values(template, {"ArtifactBucket": artifacts, "ArtifactKey": key,
                                             "BucketPrefix": prefix, "TableName": table,
                                             "AlarmEmail": "ops@example.com"})
    got = expect_resources(main_stack, template, params)

    fn_name = f"{main_stack}-exporter"
    fn_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fn_name}"
    events = client("events")
    rule = got["HourlySchedule"][1]
    described = events.describe_rule(Name=rule)
    h.check(described["ScheduleExpression"] == "cron(5 * * * ? *)" and described["State"] == "ENABLED",
            f"rule {described}")
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{main_stack}-failed-runs"
    target, = events.list_targets_by_rule(Rule=rule)["Targets"]
    h.check(target["Arn"] == fn_arn, f"target {target['Arn']}")
    h.check(target.get("RetryPolicy") == {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 3600},
            f"retry policy {target.get('RetryPolicy')}")
    h.check(target.get("DeadLetterConfig") == {"Arn": queue_arn}, f"dead letters {target.get('DeadLetterConfig')}")
    t = client("dynamodb").describe_table(TableName=table)["Table"]
    h.check(t["KeySchema"] == [{"AttributeName": "eventId", "KeyType": "HASH"}], f"key {t['KeySchema']}")
    h.check(t["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST", "billing mode")
    gsi, = t["GlobalSecondaryIndexes"]
    h.check(gsi["IndexName"] == "hourShard-time-index" and gsi["Projection"] == {"ProjectionType": "ALL"}
            and [k["AttributeName"] for k in gsi["KeySchema"]] == ["hourShard", "time"], f"GSI {gsi}")

    enc = s3.get_bucket_encryption(Bucket=f"{prefix}-ops")["ServerSideEncryptionConfiguration"]["Rules"][0]
    h.check(enc["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256", f"ops encryption {enc}")
    attrs = client("sqs").get_queue_attributes(QueueUrl=got["DeadLetterQueue"][1], AttributeNames=["All"])["Attributes"]
    h.check(attrs["MessageRetentionPeriod"] == "1209600" and attrs.get("SqsManagedSseEnabled") == "true",
            f"queue {attrs}")
    group, = client("logs").describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{fn_name}")["logGroups"]
    h.check(group.get("retentionInDays") == 90, f"log retention {group.get('retentionInDays')}")
    client("sns").get_topic_attributes(TopicArn=got["AlarmTopic"][1])
    body = json.loads(client("cloudwatch").get_dashboard(DashboardName=f"{main_stack}-eaglesense")["DashboardBody"])
    shown = {m[1] for w in body["widgets"] for m in w["properties"]["metrics"]}
    for metric in ("EventsRead", "EventsDelivered", "EventsRejected", "EventsUndeliverable", "DurationMs",
                   "EventsPerSecond", "Retries", "ConsumedReadCapacity", "Errors", "Duration"):
        h.check(metric in shown, f"dashboard lacks {metric}")
    actions = role_actions(got["ExporterRole"][1])
    h.check(actions == BASE_ACTIONS, f"role actions {sorted(actions)}")
    h.check(read_client_list(got["ExporterRole"][1]) == [],
            f"ReadClientList without AllowedClients: {read_client_list(got['ExporterRole'][1])}")

    # --- 2. the KMS + VPC variant, by CreateStack (it has outputs in moto) ---------------------------
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.42.{i}.0/24")["Subnet"]["SubnetId"] for i in (1, 2)]
    sg = ec2.create_security_group(GroupName=f"{name}-fn", Description="exporter", VpcId=vpc)["GroupId"]
    rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    variant = f"{name}-kmsvpc"
    vprefix = f"{name}-b"
    overrides = {"ArtifactBucket": artifacts, "ArtifactKey": key, "BucketPrefix": vprefix,
                 "TableName": table, "CreateTable": "false", "Architecture": "arm64", "UseKmsKey": "true",
                 "EnableVpc": "true", "SubnetIds": ",".join(subnets), "SecurityGroupId": sg,
                 "VpcId": vpc, "RouteTableIds": rtb, "AllowedClients": f"s3://{vprefix}-ops/config/clients.txt"}
    cf = client("cloudformation")
    cf.create_stack(StackName=variant, Capabilities=["CAPABILITY_NAMED_IAM"],
                    **cfn.template_source(s3, artifacts, region=REGION),
                    Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in overrides.items()])
    vgot = expect_resources(variant, template, cfn.parameter_values(template, overrides))
    h.check("EventsTable" not in vgot, "CreateTable=false still created a table")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in cf.describe_stacks(StackName=variant)["Stacks"][0]["Outputs"]}
    key_arn = outputs["KmsKeyArn"]
    h.check(key_arn.startswith(f"arn:aws:kms:{REGION}:{ACCOUNT}:key/"), f"KmsKeyArn output {key_arn}")
    endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["VpcEndpoints"]
    h.check(sorted(e["ServiceName"] for e in endpoints) == [f"com.amazonaws.{REGION}.dynamodb", f"com.amazonaws.{REGION}.s3"]
            and all(e["VpcEndpointType"] == "Gateway" and e["RouteTableIds"] == [rtb] for e in endpoints),
            f"gateway endpoints {endpoints}")
    venc = s3.get_bucket_encryption(Bucket=f"{vprefix}-ops")["ServerSideEncryptionConfiguration"]["Rules"][0]
    h.check(venc["ApplyServerSideEncryptionByDefault"].get("SSEAlgorithm") == "aws:kms"
            and venc["ApplyServerSideEncryptionByDefault"].get("KMSMasterKeyID") == key_arn, f"ops encryption {venc}")
    vactions = role_actions(vgot["ExporterRole"][1])
    h.check(vactions == BASE_ACTIONS | {"kms:GenerateDataKey", "kms:Decrypt", "ec2:CreateNetworkInterface",
                                        "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
                                        "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses",
                                        "ec2:UnassignPrivateIpAddresses"},
            f"variant role actions {sorted(vactions)}")
    h.check(read_client_list(vgot["ExporterRole"][1]) == [(["s3:GetObject"], [f"arn:aws:s3:::{vprefix}-ops/config/*"])],
            f"variant ReadClientList {read_client_list(vgot['ExporterRole'][1])}, expected s3:GetObject on "
            f"{vprefix}-ops/config/* only")

    # --- 3. a client, by scripts/deploy.sh --add-client ----------------------------------------------
    deploy_sh(["--stack", variant, "--add-client", "acme"], tmp)
    client_stack = f"{variant}-client-acme"
    h.check(stack_status(client_stack) == "CREATE_COMPLETE", f"{client_stack}: {stack_status(client_stack)}")
    cgot = created_resources(client_stack)
    h.check(cgot.get("ClientBucket", ("", ""))[1] == f"{vprefix}-acme", f"client stack resources {cgot}")
    cenc = s3.get_bucket_encryption(Bucket=f"{vprefix}-acme")["ServerSideEncryptionConfiguration"]["Rules"][0]
    h.check(cenc["ApplyServerSideEncryptionByDefault"].get("KMSMasterKeyID") == key_arn, f"client encryption {cenc}")
    print(f"{client_stack}: CREATE_COMPLETE, bucket {vprefix}-acme encrypted with the stack's key")
    check_lambda_on_private_moto(tmp, package, key)
    print("ok")


if __name__ == "__main__":
    main()
