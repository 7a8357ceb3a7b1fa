//! `costform emulator`: serve the Atlas-compatible emulator until Ctrl-C.

use costform_emulator::{
    Config, DEMO_ACCESS_TOKEN, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_PRIVATE_API_KEY,
    DEMO_PUBLIC_API_KEY, Emulator, Faults,
};
use miette::{IntoDiagnostic, WrapErr};

use crate::args::EmulatorArgs;
use crate::context::Context;
use crate::exit::Exit;

/// Starts the emulator, prints how to point costform and curl at it, and
/// serves until interrupted.
pub async fn run(context: &Context, args: &EmulatorArgs) -> miette::Result<Exit> {
    let config = Config {
        listen: args.listen,
        processing_polls: args.processing_polls,
        faults: Faults {
            latency: args.latency.unwrap_or_default(),
            rate_limit_every: args.rate_limit_every,
            retry_after_secs: args.retry_after,
            server_error_every: args.server_error_every,
            drop_every: args.drop_every,
        },
        token_bucket: args.token_bucket,
        ..Config::demo()
    };
    let emulator = Emulator::start(config)
        .await
        .into_diagnostic()
        .wrap_err_with(|| format!("failed to listen on `{}`", args.listen))?;
    let base = emulator.base_url();
    context.ui.printer().stdout().line(format_args!(
        "{} {base}\n\n\
         Point costform at it with one of the demo credentials:\n  \
         export MONGODB_ATLAS_BASE_URL={base}\n  \
         export MONGODB_ATLAS_ACCESS_TOKEN={DEMO_ACCESS_TOKEN}\n  \
         # or a service account: MONGODB_ATLAS_CLIENT_ID={DEMO_CLIENT_ID} MONGODB_ATLAS_CLIENT_SECRET={DEMO_CLIENT_SECRET}\n  \
         # or an API key (Digest): MONGODB_ATLAS_PUBLIC_API_KEY={DEMO_PUBLIC_API_KEY} MONGODB_ATLAS_PRIVATE_API_KEY={DEMO_PRIVATE_API_KEY}\n\n\
         Or with curl, as in the Atlas docs:\n  \
         curl --header \"Authorization: Bearer {DEMO_ACCESS_TOKEN}\" \\\n       \
         --header \"Accept: application/vnd.atlas.2023-01-01+json\" \\\n       \
         --header \"Content-Type: application/vnd.atlas.2023-01-01+json\" \\\n       \
         -X POST \"{base}/api/atlas/v2/orgs/5f0c8a1b2c3d4e5f6a7b8c9d/billing/costExplorer/usage\" \\\n       \
         --data '{{\"startDate\":\"2026-10-01\",\"endDate\":\"2026-11-01\",\"groupBy\":\"services\"}}'\n\n\
         Press Ctrl-C to stop.",
        context.ui.success("costform emulator listening on")
    ));
    tokio::signal::ctrl_c().await.into_diagnostic()?;
    emulator.shutdown().await;
    Ok(Exit::Success)
}
