#pragma once
/// Scale-out: one hour exported by many workers (Step Functions, or `eaglesense run --workers W`) in
/// five stages that share only the ops bucket's staging/{hour}/ prefix and write exactly the objects
/// and manifest of a single run. docs/SCALING.md explains the stages, their keys and their failures.
///
///   scale_out/staging.h        the staging keys of an hour (StagingLayout) and their headers
///   scale_out/plan.h           the plan: how an hour is split into work units, and its document
///   scale_out/unit_manifest.h  what a work unit wrote, and its rejected events
///   scale_out/staged_run.h     a staged run read back by ranged GETs (a RunSource)
///   scale_out/stages.h         the five stages (ScaleOut) and the JSON they answer with

#include "export/scale_out/plan.h"
#include "export/scale_out/staged_run.h"
#include "export/scale_out/stages.h"
#include "export/scale_out/staging.h"
#include "export/scale_out/unit_manifest.h"
