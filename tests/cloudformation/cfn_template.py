"""Reads the CloudFormation templates of cloudformation/ for the tests: a YAML loader that understands
the short-form intrinsic functions (!Ref, !Sub, !GetAtt, !If, ...), condition evaluation for a set of
parameter values, and resolution of Fn::If / AWS::NoValue under those conditions.

Run by Debian's /usr/bin/python3 (python3-yaml). Only what the templates here use is evaluated:
Fn::Equals, Fn::Not, Fn::And, Fn::Or and Condition references on parameters (Ref).
"""
import os
import re

import yaml

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TEMPLATE = os.path.join(REPO_ROOT, "cloudformation", "template.yaml")
CLIENT_TEMPLATE = os.path.join(REPO_ROOT, "cloudformation", "client-bucket.yaml")

NO_VALUE = object()


class _Loader(yaml.SafeLoader):
    pass


def _construct_tag(loader, tag_suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":  # !Condition X is {"Condition": X}, not a Fn::
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


_Loader.add_multi_constructor("!", _construct_tag)


def load(path=TEMPLATE):
    with open(path) as f:
        return yaml.load(f, Loader=_Loader)


def parameter_values(template, overrides=None):
    """The parameters' values: defaults, then overrides (all as strings, as CloudFormation has them)."""
    values = {}
    for name, spec in template.get("Parameters", {}).items():
        if "Default" in spec:
            values[name] = str(spec["Default"])
    for name, value in (overrides or {}).items():
        if name not in template.get("Parameters", {}):
            raise KeyError(f"no parameter {name} in the template")
        values[name] = str(value)
    return values


def conditions(template, params):
    """Every condition of the template evaluated for params ({name: bool})."""
    definitions = template.get("Conditions", {})
    done = {}

    def value(node):
        if isinstance(node, dict) and set(node) == {"Ref"}:
            if node["Ref"] not in params:
                raise KeyError(f"parameter {node['Ref']} has no value")
            return params[node["Ref"]]
        if isinstance(node, dict) and set(node) == {"Fn::Join"}:
            sep, items = node["Fn::Join"]
            items = [value(i) for i in items] if isinstance(items, list) else value(items)
            return sep.join(items if isinstance(items, list) else [items])
        if isinstance(node, (str, int, float, bool)):
            return str(node).lower() if isinstance(node, bool) else str(node)
        raise ValueError(f"cannot evaluate {node!r} in a condition")

    def evaluate(node):
        if isinstance(node, dict) and set(node) == {"Condition"}:
            return named(node["Condition"])
        (op, args), = node.items()
        if op == "Fn::Equals":
            return value(args[0]) == value(args[1])
        if op == "Fn::Not":
            return not evaluate(args[0])
        if op == "Fn::And":
            return all(evaluate(a) for a in args)
        if op == "Fn::Or":
            return any(evaluate(a) for a in args)
        raise ValueError(f"unsupported condition function {op}")

    def named(name):
        if name not in done:
            done[name] = evaluate(definitions[name])
        return done[name]

    for name in definitions:
        named(name)
    return done


def resolve(node, conds):
    """node with every Fn::If chosen by conds and every AWS::NoValue removed (lists and mappings)."""
    if isinstance(node, dict):
        if set(node) == {"Fn::If"}:
            name, when_true, when_false = node["Fn::If"]
            return resolve(when_true if conds[name] else when_false, conds)
        if node == {"Ref": "AWS::NoValue"}:
            return NO_VALUE
        out = {}
        for k, v in node.items():
            r = resolve(v, conds)
            if r is not NO_VALUE:
                out[k] = r
        return out
    if isinstance(node, list):
        return [r for r in (resolve(v, conds) for v in node) if r is not NO_VALUE]
    return node


def active_resources(template, params):
    """{logical id: resource} of the resources created with these parameter values, Fn::If resolved."""
    conds = conditions(template, params)
    out = {}
    for name, resource in template["Resources"].items():
        if "Condition" in resource and not conds[resource["Condition"]]:
            continue
        out[name] = resolve(resource, conds)
    return out


def render_sub(node, names):
    """The string an Fn::Sub node stands for: names maps ${Name} and ${Resource.Attribute} to strings;
    the variables of the two-argument form must be strings. ${!Literal} renders as ${Literal}."""
    if isinstance(node, dict) and set(node) == {"Fn::Sub"}:
        node = node["Fn::Sub"]
    if isinstance(node, list):
        text, variables = node
        for k, v in variables.items():
            if not isinstance(v, str):
                raise ValueError(f"Fn::Sub variable {k} is not a string: {v!r}")
        names = {**names, **variables}
    else:
        text = node

    def one(m):
        name = m.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name not in names:
            raise KeyError(f"Fn::Sub: no value for ${{{name}}}")
        return str(names[name])
    return re.sub(r"\$\{([^}]*)\}", one, text)


def pseudo_names(params, stack="eaglesense", region="us-east-1", account="123456789012"):
    """Values for Fn::Sub: the parameters, the pseudo parameters and the attributes the state machine's
    definition uses, as CloudFormation would give them for a stack of that name."""
    return {
        **params,
        "AWS::Partition": "aws", "AWS::Region": region, "AWS::AccountId": account, "AWS::StackName": stack,
        "ExporterFunction.Arn": f"arn:aws:lambda:{region}:{account}:function:{stack}-exporter",
    }


def stack_names(template, params, stack="eaglesense", region="us-east-1", account="123456789012"):
    """pseudo_names plus what Ref and Fn::GetAtt give for the resources the roles' policies name, each
    rendered from its own name property in the template (the KMS key's id is made up: CloudFormation
    chooses it). Keys are "Name" for Ref and "Name.Attribute" for Fn::GetAtt, as in Fn::Sub."""
    names = pseudo_names(params, stack=stack, region=region, account=account)
    resources = template["Resources"]

    def rendered(name, prop):
        return render_sub(resources[name]["Properties"][prop], names)

    ops = rendered("OpsBucket", "BucketName")
    queue = rendered("DeadLetterQueue", "QueueName")
    names.update({
        "OpsBucket": ops,
        "OpsBucket.Arn": f"arn:aws:s3:::{ops}",
        "ExporterLogGroup": rendered("ExporterLogGroup", "LogGroupName"),
        "ExporterFunction": rendered("ExporterFunction", "FunctionName"),
        "DeadLetterQueue.Arn": f"arn:aws:sqs:{region}:{account}:{queue}",
        "DataKey.Arn": f"arn:aws:kms:{region}:{account}:key/0e5e5e5e-1111-2222-3333-444455556666",
        "ExportStateMachine": (f"arn:aws:states:{region}:{account}:stateMachine:"
                               + rendered("ExportStateMachine", "StateMachineName")),
    })
    return names


def substitute(node, names):
    """node (Fn::If already chosen: active_resources) with every Ref, Fn::Sub and Fn::GetAtt replaced by
    its value from names (stack_names): plain JSON, as IAM receives a policy document."""
    if isinstance(node, list):
        return [substitute(v, names) for v in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Ref"}:
        return names[node["Ref"]]
    if set(node) == {"Fn::Sub"}:
        return render_sub(node, names)
    if set(node) == {"Fn::GetAtt"}:
        return names[".".join(node["Fn::GetAtt"])]
    for key in node:
        if key.startswith("Fn::"):
            raise ValueError(f"cannot substitute {key} in {node!r}")
    return {k: substitute(v, names) for k, v in node.items()}


def role_policies(template, params, role, **kw):
    """{policy name: policy document} of a role's inline policies for these parameter values, every
    condition chosen and every substitution resolved for a stack (stack_names' keywords: stack,
    region, account)."""
    resources = active_resources(template, params)
    names = stack_names(template, params, **kw)
    return {p["PolicyName"]: substitute(p["PolicyDocument"], names)
            for p in resources[role]["Properties"].get("Policies", [])}


# CloudFormation takes a TemplateBody of at most 51,200 bytes; a larger template goes through S3
# (TemplateURL), as scripts/deploy.sh sends it (aws cloudformation deploy --s3-bucket).
TEMPLATE_BODY_LIMIT = 51200


def template_source(s3, bucket, path=TEMPLATE, region="us-east-1"):
    """The CreateStack arguments for a template, as AWS would take it: {"TemplateBody": text} up to
    TEMPLATE_BODY_LIMIT bytes, else the template uploaded with the S3 client s3 to bucket (under
    eaglesense/templates/, as deploy.sh's --s3-prefix) and {"TemplateURL": its path-style URL} (the
    form aws cloudformation deploy builds; moto fetches it from its own S3)."""
    import hashlib
    with open(path, "rb") as f:
        body = f.read()
    if len(body) <= TEMPLATE_BODY_LIMIT:
        return {"TemplateBody": body.decode()}
    key = f"eaglesense/templates/{hashlib.sha256(body).hexdigest()}.template"
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return {"TemplateURL": f"https://s3.{region}.amazonaws.com/{bucket}/{key}"}


def state_machine_definition_text(template, params, **kw):
    """ExportStateMachine's DefinitionString with every ${...} substituted (a JSON text)."""
    props = template["Resources"]["ExportStateMachine"]["Properties"]
    return render_sub(props["DefinitionString"], pseudo_names(params, **kw))


def _write_rendered_state_machine(out):
    """A template holding only the state machine with its definition rendered (ScaleOutWorkers 8,
    ScaleOutMaxConcurrency 25): cfn-lint validates a plain DefinitionString, not one under Fn::Sub."""
    import json
    template = load()
    params = parameter_values(template, {"ArtifactBucket": "artifacts", "ArtifactKey": "k.zip",
                                         "BucketPrefix": "acme-events", "ScaleOutWorkers": 8,
                                         "ScaleOutMaxConcurrency": 25})
    rendered = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "cloudformation/template.yaml's ExportStateMachine, definition rendered (lint_test.sh)",
        "Resources": {"ExportStateMachine": {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {"StateMachineType": "STANDARD",
                           "RoleArn": "arn:aws:iam::123456789012:role/eaglesense-state-machine",
                           "DefinitionString": state_machine_definition_text(template, params)}}},
    }
    with open(out, "w") as f:
        json.dump(rendered, f, indent=1)


if __name__ == "__main__":
    import sys
    if len(sys.argv) != 3 or sys.argv[1] != "render-state-machine":
        sys.exit("usage: cfn_template.py render-state-machine OUT.json")
    _write_rendered_state_machine(sys.argv[2])
