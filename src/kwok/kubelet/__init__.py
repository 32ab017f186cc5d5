"""The kwok controller: fake kubelets driven by Stages (`kwok [FLAGS]`, KWOK-REFERENCE §1).

    run.run(Settings)            the process: event loop, client, controllers, kubelet server, signals
    controller.Controller        wires the controllers below; update_stages() for live Stage changes
    nodes.NodeController         which nodes are ours (selectors, leases); node stages
    pods.PodController           pods on our nodes; pod stages; IPs (kwok.engine.ipam)
    leases.LeaseController       kube-node-lease leases, renewal, take-over between instances
    generic.GenericController    stages of any other kind (one per resourceRef)
    stagesource.WatchedStages    Stages watched from the cluster (--enable-crds=Stage)
    player.StagePlayer           preprocess -> delaying queue -> workers -> pipelined API calls
    actions.ActionRunner         event / patch / apply / delete through the API (no-op patches skipped)
    server / listener            the kubelet port: health, /metrics, HTTP and HTTPS on one port;
                                 kwok.kubelet.usage and kwok.kubelet.debug mount Metric, logs, exec, ...
    options.KwokOptions          flags and KwokConfiguration options, validated as KWOK does
"""
