//! The test bed's stand-in for Strimzi and the kubelet (see `amqdr_standins::standin`), as a
//! process for benchmarks: `operator-standin KUBECONFIG API_VERSION NAMESPACE...`. Runs until
//! killed.

use amqdr_standins::standin;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let kubeconfig = args.next().ok_or_else(|| anyhow::anyhow!("usage: operator-standin KUBECONFIG API_VERSION NAMESPACE..."))?;
    let api_version = args.next().ok_or_else(|| anyhow::anyhow!("API_VERSION missing"))?;
    let namespaces: Vec<String> = args.collect();
    let kc = kube::config::Kubeconfig::read_from(&kubeconfig)?;
    let config = kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?;
    let client = kube::Client::try_from(config)?;
    let options = standin::StandinOptions {
        api_version,
        namespaces,
        operator_ready: true,
        apps_domain: "apps.testbed.local".into(),
        external_bootstraps: Default::default(),
        kafka_sites: Default::default(),
    };
    let s = standin::Standin::start(client, options).await;
    eprintln!("operator-standin: running");
    tokio::signal::ctrl_c().await?;
    for v in s.violations() {
        eprintln!("operator-standin: violation: {v}");
    }
    Ok(())
}
