//! `costform demo`: the whole cycle on the bundled examples against an
//! in-process emulator, through the same code paths as the real commands.

use std::path::{Path, PathBuf};

use costform_emulator::{Config, DEMO_ACCESS_TOKEN, Emulator};
use costform_model::ids::ReportName;
use costform_model::result_body::DEFAULT_MAX_RESULT_BYTES;
use jiff::{ToSpan, tz::TimeZone};
use miette::{IntoDiagnostic, WrapErr};

use crate::args::{
    ApplyArgs, CheckArgs, CheckFormat, CostsArgs, CostsBy, CostsCompare, CostsFormat, FetchArgs,
    PlanArgs, PlanFormat, ResultFormatArg, SummaryFormat, TargetArgs, ValidateArgs, ValidateFormat,
};
use crate::commands::{apply, check, costs, fetch, plan, validate};
use crate::context::Context;
use crate::exit::Exit;

mod bundled {
    include!(concat!(env!("OUT_DIR"), "/examples.rs"));
}

/// Credentials that must not leak from the user's shell into the demo (it
/// talks to its own emulator with the demo token only).
const ATLAS_VARIABLES: [&str; 6] = [
    "MONGODB_ATLAS_BASE_URL",
    "MONGODB_ATLAS_ACCESS_TOKEN",
    "MONGODB_ATLAS_CLIENT_ID",
    "MONGODB_ATLAS_CLIENT_SECRET",
    "MONGODB_ATLAS_PUBLIC_API_KEY",
    "MONGODB_ATLAS_PRIVATE_API_KEY",
];

/// Runs validate, plan, apply, plan, plan a month later, fetch --wait,
/// costs --compare previous and check.
pub async fn run(context: &Context) -> miette::Result<Exit> {
    let dir = workspace(context)?;
    let emulator = Emulator::start(Config::demo())
        .await
        .into_diagnostic()
        .wrap_err("failed to start the in-process emulator")?;
    let mut demo = context.clone();
    demo.global.dir = Some(dir.clone());
    demo.global.state = None;
    for name in ATLAS_VARIABLES {
        demo.env.remove(name);
    }
    demo.env
        .insert("MONGODB_ATLAS_BASE_URL".into(), emulator.base_url());
    demo.env.insert(
        "MONGODB_ATLAS_ACCESS_TOKEN".into(),
        DEMO_ACCESS_TOKEN.into(),
    );
    let outcome = cycle(&demo).await;
    emulator.shutdown().await;
    outcome?;
    context.ui.printer().summary().line(format_args!(
        "\n{}\n  definitions  {}\n  state        {}\n  results      {}\n\n\
         Next, against a real Atlas organization (a service account with the\n\
         Organization Billing Viewer role; Organization > Access Manager > Applications > Service Accounts):\n  \
         export MONGODB_ATLAS_CLIENT_ID=... MONGODB_ATLAS_CLIENT_SECRET=...\n  \
         costform plan  --dir {dir}\n  \
         costform apply --dir {dir}\n  \
         costform fetch --dir {dir} --wait",
        context.ui.success("Demo complete."),
        dir.display(),
        demo.state_path().display(),
        demo.results_dir().display(),
        dir = dir.display(),
    ));
    Ok(Exit::Success)
}

async fn cycle(demo: &Context) -> miette::Result<()> {
    let no_targets = TargetArgs {
        targets: Vec::new(),
        replace: Vec::new(),
    };
    let plan_args = PlanArgs {
        out: None,
        detailed_exitcode: false,
        strict: false,
        format: PlanFormat::Text,
        targets: no_targets.clone(),
        refresh: false,
        parallelism: 4,
    };
    step(demo, 1, "costform validate");
    expect(validate::run(
        demo,
        &ValidateArgs {
            format: ValidateFormat::Text,
            strict: false,
            list: false,
        },
    )?)?;
    step(demo, 2, "costform plan");
    expect(plan::run(demo, &plan_args).await?)?;
    step(demo, 3, "costform apply --auto-approve");
    let apply_args = ApplyArgs {
        plan_file: None,
        auto_approve: true,
        parallelism: 4,
        targets: no_targets,
    };
    expect(apply::run(demo, &apply_args).await?)?;
    step(demo, 4, "costform plan   (nothing changed since the apply)");
    expect(plan::run(demo, &plan_args).await?)?;
    let mut next_month = demo.clone();
    next_month.now = demo
        .now
        .to_zoned_datetime(TimeZone::UTC)
        .checked_add(1.month())
        .into_diagnostic()?
        .timestamp();
    step(
        demo,
        5,
        &format!(
            "costform plan --now {}   (one month later: the dates move on)",
            next_month.now
        ),
    );
    expect(plan::run(&next_month, &plan_args).await?)?;
    step(demo, 6, "costform fetch --wait");
    let fetch_args = FetchArgs {
        names: Vec::new(),
        wait: true,
        timeout: Some(std::time::Duration::from_secs(60)),
        format: ResultFormatArg::Json,
        summary: SummaryFormat::Text,
        out_dir: None,
        parallelism: 4,
        detailed_exitcode: true,
        max_result_size: DEFAULT_MAX_RESULT_BYTES,
    };
    expect(fetch::run(demo, &fetch_args).await?)?;
    step(
        demo,
        7,
        "costform costs trailing-quarter-by-project --compare previous",
    );
    expect(costs::run(
        demo,
        &CostsArgs {
            names: vec![ReportName::parse("trailing-quarter-by-project").into_diagnostic()?],
            by: CostsBy::Month,
            compare: Some(CostsCompare::Previous),
            format: CostsFormat::Text,
            out: None,
        },
    )?)?;
    step(demo, 8, "costform check   (the budgets in the definitions)");
    let check_args = CheckArgs {
        names: Vec::new(),
        format: CheckFormat::Text,
        require_results: false,
    };
    match check::run(demo, &check_args)? {
        Exit::BudgetBreached => {
            demo.ui.printer().summary().line(
                "\n`check` exits 3 on a breach: a scheduled CI job running it fails and names the\n\
                 report, group, month, limit and amount over (trailing-quarter-by-project.yaml\n\
                 sets the budget). Raise the limit there, or find out what grew.",
            );
            Ok(())
        }
        exit => expect(exit),
    }
}

/// How many steps the demo shows.
const STEPS: u8 = 8;

fn step(demo: &Context, number: u8, title: &str) {
    demo.ui.printer().summary().line(format_args!(
        "\n{}\n",
        demo.ui.bold(&format!("==> {number}/{STEPS} {title}"))
    ));
}

/// Stops the demo at the first step that did not succeed.
fn expect(exit: Exit) -> miette::Result<()> {
    match exit {
        Exit::Success => Ok(()),
        other => Err(miette::miette!(
            "the demo stopped: a step ended with exit code {}",
            other.code()
        )),
    }
}

/// The demo's definitions directory: `--dir` if given, else a new temporary
/// directory that is kept so the user can look at the state and results.
fn workspace(context: &Context) -> miette::Result<PathBuf> {
    let dir = match &context.global.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .into_diagnostic()
                .wrap_err_with(|| format!("failed to create `{}`", dir.display()))?;
            dir.clone()
        }
        None => tempfile::Builder::new()
            .prefix("costform-demo-")
            .tempdir()
            .into_diagnostic()
            .wrap_err("failed to create a temporary directory")?
            .keep(),
    };
    copy_examples(&dir)?;
    Ok(dir)
}

fn copy_examples(dir: &Path) -> miette::Result<()> {
    for (name, contents) in bundled::EXAMPLES {
        let path = dir.join(name);
        std::fs::write(&path, contents)
            .into_diagnostic()
            .wrap_err_with(|| format!("failed to write `{}`", path.display()))?;
    }
    Ok(())
}
