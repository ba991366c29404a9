using System.Globalization;
using System.Text.RegularExpressions;
using MaaS.Server.Hosting;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace MaaS.Server.Tests;

/// <summary>
/// The deployment files under docker/ (Dockerfiles, Compose, nginx, Kubernetes and KServe manifests) are checked
/// statically, since no container engine or cluster runs in CI: every YAML document parses, and the facts the server
/// relies on hold (health paths and port, non-root, drain time, shared polled repository, limits that match the
/// server's defaults, nginx upstreams that are the Compose replicas).
/// </summary>
public sealed partial class DeploymentManifestTests
{
    private const string Port = "8000";

    private const string GrpcPort = "8001";
    private const string LivePath = "/v2/health/live";
    private const string ReadyPath = "/v2/health/ready";

    private static string DockerDirectory => Path.Combine(RepositoryPaths.Root, "docker");

    /// <summary>Every YAML file under docker/, relative to it, with '/' separators.</summary>
    public static TheoryData<string> YamlFiles() => new(YamlFileList());

    private static List<string> YamlFileList() =>
        Directory.EnumerateFiles(DockerDirectory, "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(DockerDirectory, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToList();

    [Theory]
    [MemberData(nameof(YamlFiles))]
    public void Yaml_EveryFileUnderDocker_ParsesIntoMappings(string relativePath)
    {
        var documents = LoadDocuments(relativePath);

        documents.Should().NotBeEmpty("{0} should hold at least one YAML document", relativePath);
        documents.Should().AllBeAssignableTo<Dictionary<object, object>>("every document of {0} should be a mapping", relativePath);
    }

    [Fact]
    public void Yaml_FilesUnderDocker_IncludeComposeAndEveryKubernetesManifest()
    {
        YamlFileList().Should().Contain(
        [
            "compose.yaml", "compose.gpu.yaml", "k8s/deployment.yaml", "k8s/service.yaml", "k8s/hpa.yaml", "k8s/pdb.yaml",
            "k8s/pvc.yaml", "k8s/kserve-servingruntime.yaml", "k8s/kserve-inferenceservice.yaml",
        ]);
    }

    [Fact]
    public void Kubernetes_EveryDocument_HasApiVersionKindAndName()
    {
        var documents = KubernetesDocuments();

        documents.Should().HaveCountGreaterThanOrEqualTo(7);
        foreach (var (file, document) in documents)
        {
            Text(document, "apiVersion").Should().NotBeNullOrWhiteSpace("every document of {0} needs apiVersion", file);
            Text(document, "kind").Should().NotBeNullOrWhiteSpace("every document of {0} needs kind", file);
            Text(document, "metadata.name").Should().NotBeNullOrWhiteSpace("every document of {0} needs metadata.name", file);
        }

        documents.Select(d => Text(d.Document, "kind")).Should().Contain(
            ["Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "PersistentVolumeClaim", "ClusterServingRuntime", "InferenceService"]);
    }

    [Fact]
    public void Kubernetes_EveryContainer_RunsTheMaasImage()
    {
        foreach (var (file, document) in KubernetesDocuments())
        {
            foreach (var container in Containers(document))
            {
                Text(container, "image").Should().BeOneOf(["maas:latest", "maas:cuda"], "containers in {0} run the MaaS image", file);
            }
        }
    }

    [Fact]
    public void Deployment_Probes_HitTheHealthEndpointsOnPort8000()
    {
        var container = ServerContainer();

        Text(container, "livenessProbe.httpGet.path").Should().Be(LivePath);
        ProbePort(container, "livenessProbe").Should().Be(Port);
        Text(container, "readinessProbe.httpGet.path").Should().Be(ReadyPath);
        ProbePort(container, "readinessProbe").Should().Be(Port);
        Text(container, "startupProbe.httpGet.path").Should().BeOneOf(LivePath, ReadyPath);
        ProbePort(container, "startupProbe").Should().Be(Port);
        List(container, "ports").Select(p => Text(p, "containerPort")).Should().Contain(Port);
    }

    [Fact]
    public void Deployment_SecurityContext_NonRootReadOnlyRootNoEscalationNoCapabilities()
    {
        var deployment = Document("Deployment");
        var pod = At(deployment, "spec.template.spec");

        Text(pod, "securityContext.runAsNonRoot").Should().Be("true");
        Text(pod, "securityContext.runAsUser").Should().NotBe("0");
        foreach (var container in Containers(deployment))
        {
            var name = Text(container, "name");
            Text(container, "securityContext.readOnlyRootFilesystem").Should().Be("true", "container {0} should have a read-only root", name);
            Text(container, "securityContext.allowPrivilegeEscalation").Should().Be("false", "container {0}", name);
            List(container, "securityContext.capabilities.drop").Should().Contain("ALL", "container {0} should drop every capability", name);
        }

        // A read-only root needs somewhere writable for temp files and .NET's diagnostics socket.
        var tmp = List(ServerContainer(), "volumeMounts").Should().ContainSingle(m => Text(m, "mountPath") == "/tmp").Subject;
        var volume = List(pod, "volumes").Single(v => Text(v, "name") == Text(tmp, "name"));
        At(volume, "emptyDir").Should().NotBeNull("/tmp should be an emptyDir");
    }

    [Fact]
    public void Deployment_GracePeriod_CoversPreStopDelayAndShutdownTimeout()
    {
        var deployment = Document("Deployment");
        var container = ServerContainer();
        var grace = Int(Text(deployment, "spec.template.spec.terminationGracePeriodSeconds"));
        var delay = Int(Env(container, "MaaS__Shutdown__DelaySeconds"));
        var timeout = Int(Env(container, "MaaS__ShutdownTimeoutSeconds"));
        var preStop = Text(container, "lifecycle.preStop.sleep.seconds")
            ?? List(container, "lifecycle.preStop.exec.command").Cast<string>().Should().HaveCount(2).And.StartWith("sleep").And.Subject.Last();

        grace.Should().BeGreaterThanOrEqualTo(40);
        grace.Should().BeGreaterThan(Int(preStop) + delay + timeout,
            "the kubelet should not SIGKILL before the preStop sleep ({0} s), the drain delay ({1} s) and the shutdown timeout ({2} s) have passed",
            preStop, delay, timeout);
    }

    [Fact]
    public void Deployment_Repository_IsTheSharedClaimAtModelsAndPolled()
    {
        var deployment = Document("Deployment");
        var container = ServerContainer();
        var claim = Document("PersistentVolumeClaim");

        Env(container, "MaaS__ModelRepository").Should().Be("/models");
        Int(Env(container, "MaaS__RepositoryPollSeconds")).Should().BePositive("replicas sharing a volume poll it");
        var mount = List(container, "volumeMounts").Should().ContainSingle(m => Text(m, "mountPath") == "/models").Subject;
        var volume = List(At(deployment, "spec.template.spec"), "volumes").Single(v => Text(v, "name") == Text(mount, "name"));
        Text(volume, "persistentVolumeClaim.claimName").Should().Be(Text(claim, "metadata.name"));
        List(claim, "spec.accessModes").Should().Contain("ReadWriteMany");
    }

    [Fact]
    public void ServiceAutoscalerAndDisruptionBudget_TargetTheDeployment()
    {
        var deployment = Document("Deployment");
        var podLabels = Map(At(deployment, "spec.template.metadata.labels"));
        var service = Document("Service");
        var autoscaler = Document("HorizontalPodAutoscaler");
        var budget = Document("PodDisruptionBudget");

        var serviceSelector = Map(At(service, "spec.selector"));
        serviceSelector.Should().NotBeEmpty();
        podLabels.Should().Contain(serviceSelector, "the service should select the deployment's pods");
        var ports = List(service, "spec.ports");
        ports.Select(p => Text(p, "name")).Should().BeEquivalentTo(["http", "grpc"]);
        var port = ports.Single(p => Text(p, "name") == "http");
        Text(port, "port").Should().Be(Port);
        ResolvePort(ServerContainer(), Text(port, "targetPort")).Should().Be(Port);
        var grpc = ports.Single(p => Text(p, "name") == "grpc");
        Text(grpc, "port").Should().Be(GrpcPort);
        ResolvePort(ServerContainer(), Text(grpc, "targetPort")).Should().Be(GrpcPort, "the service's gRPC port must reach the server's (MaaS:Grpc:Port)");

        Text(autoscaler, "apiVersion").Should().Be("autoscaling/v2");
        Text(autoscaler, "spec.scaleTargetRef.kind").Should().Be("Deployment");
        Text(autoscaler, "spec.scaleTargetRef.name").Should().Be(Text(deployment, "metadata.name"));
        Int(Text(autoscaler, "spec.minReplicas")).Should().BeGreaterThanOrEqualTo(2);
        List(autoscaler, "spec.metrics").Select(m => Text(m, "resource.name")).Should().Contain("cpu");
        Text(ServerContainer(), "resources.requests.cpu").Should().NotBeNull("CPU utilization is measured against the request");

        Text(budget, "apiVersion").Should().Be("policy/v1");
        var budgetSelector = Map(At(budget, "spec.selector.matchLabels"));
        budgetSelector.Should().NotBeEmpty();
        podLabels.Should().Contain(budgetSelector, "the budget should cover the deployment's pods");
    }

    [Fact]
    public void ClusterServingRuntime_ServesOnnxOverV2FromMntModels()
    {
        var runtime = Document("ClusterServingRuntime");

        Text(runtime, "apiVersion").Should().Be("serving.kserve.io/v1alpha1");
        Text(runtime, "metadata.name").Should().Be("maas");
        var onnx = List(runtime, "spec.supportedModelFormats").Should().ContainSingle(f => Text(f, "name") == "onnx").Subject;
        Text(onnx, "autoSelect").Should().Be("true");
        List(runtime, "spec.protocolVersions").Should().Contain("v2");
        var container = List(runtime, "spec.containers").Should().ContainSingle().Subject;
        var args = List(container, "args").Cast<string>().ToList();
        args.Should().ContainInConsecutiveOrder("--model-repository", "/mnt/models");
        List(container, "ports").Select(p => Text(p, "containerPort")).Should().Equal([Port], "Knative routes one container port");
        List(runtime, "spec.protocolVersions").Cast<string>().Should().BeEquivalentTo(["v1", "v2", "grpc-v2"]);
        Text(container, "imagePullPolicy").Should().Be("IfNotPresent");
        Text(container, "readinessProbe.httpGet.path").Should().Be("/v2/health/ready");
        Text(container, "readinessProbe.httpGet.port").Should().Be(Port);
    }

    [Fact]
    public void InferenceService_RunsOnTheMaasRuntime()
    {
        var service = Document("InferenceService");

        Text(service, "spec.predictor.model.runtime").Should().Be(Text(Document("ClusterServingRuntime"), "metadata.name"));
        Text(service, "spec.predictor.model.modelFormat.name").Should().Be("onnx");
        Text(service, "spec.predictor.model.storageUri").Should().MatchRegex("^[a-z0-9]+://.+");
        var env = List(List(Document("ClusterServingRuntime"), "spec.containers").Single(), "env")
            .ToDictionary(e => Text(e, "name")!, e => Text(e, "value"), StringComparer.Ordinal);
        var drain = Int(env["MaaS__Shutdown__DelaySeconds"]) + Int(env["MaaS__ShutdownTimeoutSeconds"]);
        Int(Text(service, "spec.predictor.terminationGracePeriodSeconds")).Should().BeGreaterThan(drain, "the pod should outlive the server's drain");
    }

    [Fact]
    public void Compose_RunsTwoOrMorePollingReplicasBehindNginx()
    {
        var compose = LoadDocuments("compose.yaml").Should().ContainSingle().Subject;
        var services = Map(At(compose, "services"));
        var replicas = MaasServices(compose);

        replicas.Sum(r => Int(Text(r.Value, "deploy.replicas") ?? "1")).Should().BeGreaterThanOrEqualTo(2);
        Map(At(compose, "volumes")).Should().ContainKey("models");
        foreach (var (name, service) in replicas)
        {
            Text(service, "image").Should().Be("maas:latest", "service {0}", name);
            Text(service, "build.dockerfile").Should().Be("docker/Dockerfile", "service {0}", name);
            Int(ComposeEnv(service, "MaaS__RepositoryPollSeconds")).Should().BePositive("service {0} shares the volume and should poll it", name);
            List(service, "volumes").Should().Contain("models:/models", "service {0} should mount the shared volume", name);
            List(service, "healthcheck.test").Cast<string>().Should().Contain(t => t.Contains("/v2/health/", StringComparison.Ordinal), "service {0}", name);
            Seconds(Text(service, "stop_grace_period")).Should().BeGreaterThanOrEqualTo(40, "service {0} needs time to drain", name);
        }

        var nginx = services.Should().ContainKey("nginx").WhoseValue;
        Text(nginx, "image").Should().StartWith("nginx");
        List(nginx, "volumes").Cast<string>().Should().Contain(v => v.StartsWith("./nginx.conf:/etc/nginx/nginx.conf", StringComparison.Ordinal));
        Map(At(nginx, "depends_on")).Keys.Should().BeEquivalentTo(replicas.Select(r => (object)r.Key));
        List(nginx, "ports").Should().Contain($"{Port}:{NginxListenPort()}");
        List(nginx, "ports").Should().Contain($"{GrpcPort}:{GrpcPort}", "nginx passes gRPC on its own port");
        File.ReadAllText(Path.Combine(DockerDirectory, "nginx.conf")).Should().Contain($"listen {GrpcPort} http2;").And.Contain("grpc_pass grpc://");
    }

    [Fact]
    public void ComposeGpu_OverridesEveryReplicaWithTheCudaImageAndAnNvidiaGpu()
    {
        var replicas = MaasServices(LoadDocuments("compose.yaml").Single()).Select(r => r.Key).ToList();
        var gpu = Map(At(LoadDocuments("compose.gpu.yaml").Should().ContainSingle().Subject, "services"));

        gpu.Keys.Cast<string>().Should().BeEquivalentTo(replicas);
        foreach (var (name, service) in gpu)
        {
            Text(service, "image").Should().Be("maas:cuda", "service {0}", name);
            Text(service, "build.dockerfile").Should().Be("docker/Dockerfile.cuda", "service {0}", name);
            ComposeEnv(service, "MaaS__ExecutionProvider").Should().Be("cuda", "service {0}", name);
            var device = List(service, "deploy.resources.reservations.devices").Should().ContainSingle().Subject;
            Text(device, "driver").Should().Be("nvidia");
            List(device, "capabilities").Should().Contain("gpu");
        }
    }

    [Fact]
    public void Nginx_BalancesAndRetriesWithinTheServersLimits()
    {
        var conf = NginxConf();
        var limits = new LimitsOptions();

        conf.Should().MatchRegex(@"(?m)^\s*least_conn;");
        conf.Should().MatchRegex(@"(?m)^\s*proxy_next_upstream\s[^;]*\bhttp_503\b[^;]*;");
        conf.Should().MatchRegex(@"(?m)^\s*proxy_next_upstream\s[^;]*\bnon_idempotent\b[^;]*;");
        conf.Should().MatchRegex(@"(?m)^\s*proxy_next_upstream_tries\s+2;");
        conf.Should().MatchRegex(@"(?m)^\s*keepalive\s+\d+;");
        conf.Should().MatchRegex(@"(?m)^\s*proxy_http_version\s+1\.1;");
        conf.Should().MatchRegex(@"(?m)^\s*proxy_set_header\s+Connection\s+"""";");
        conf.Should().MatchRegex(@"(?m)^\s*proxy_set_header\s+X-Request-Id\s");
        conf.Should().MatchRegex(@"(?m)^\s*proxy_set_header\s+traceparent\s");

        var bodyLimits = ClientMaxBodySize().Matches(conf).Select(m => Bytes(m.Groups[1].Value)).ToList();
        bodyLimits.Should().Contain(64L * 1024 * 1024).And.Contain(limits.MaxRequestBodyBytes, "nginx should accept what a replica accepts");
        var uploads = UploadLocation().Match(conf);
        uploads.Success.Should().BeTrue("a location /v2/repository/models/ should lift the limit for uploads");
        Bytes(ClientMaxBodySize().Match(uploads.Value).Groups[1].Value).Should().Be(limits.MaxModelBytes);
        uploads.Value.Should().MatchRegex(@"proxy_request_buffering\s+off;");

        conf.Count(c => c == '{').Should().Be(conf.Count(c => c == '}'), "braces should balance");
        conf.Should().MatchRegex(@"(?m)^\s*events\s*\{").And.MatchRegex(@"(?m)^\s*http\s*\{");
    }

    [Fact]
    public void Nginx_UpstreamsBetweenMarkers_AreTheComposeReplicas()
    {
        var lines = File.ReadAllLines(Path.Combine(DockerDirectory, "nginx.conf"));
        var begin = lines.Select((line, i) => (line, i)).Where(x => x.line.Contains("# upstreams-begin", StringComparison.Ordinal)).ToList();
        var end = lines.Select((line, i) => (line, i)).Where(x => x.line.Contains("# upstreams-end", StringComparison.Ordinal)).ToList();

        // Exactly one of each, so a sed range over the markers replaces only the server lines.
        begin.Should().ContainSingle();
        end.Should().ContainSingle();
        end[0].i.Should().BeGreaterThan(begin[0].i);
        var servers = lines[(begin[0].i + 1)..end[0].i].Where(l => l.Trim().Length > 0).ToList();
        servers.Should().HaveCountGreaterThanOrEqualTo(2).And.AllSatisfy(l => l.Should().MatchRegex(UpstreamServer().ToString()));
        var hosts = servers.Select(l => UpstreamServer().Match(l)).Select(m => (Host: m.Groups[1].Value, Port: m.Groups[2].Value)).ToList();
        hosts.Select(h => h.Port).Should().AllBe(Port);
        hosts.Select(h => h.Host).Should().BeEquivalentTo(MaasServices(LoadDocuments("compose.yaml").Single()).Select(r => r.Key));
        lines.Where(l => ListenLine().IsMatch(l)).Should().ContainSingle("one listen line, tagged for substitution");
    }

    [Theory]
    [InlineData("Dockerfile", "cpu")]
    [InlineData("Dockerfile.cuda", "cuda")]
    public void Dockerfile_BuildsMultiStageAndRunsAsNonRootWithLiveHealthcheck(string file, string flavour)
    {
        var instructions = DockerInstructions(file);
        var froms = instructions.Where(i => i.Keyword == "FROM").ToList();
        var finalStage = instructions.Skip(instructions.LastIndexOf(froms[^1])).ToList();

        froms.Should().HaveCountGreaterThanOrEqualTo(2, "the SDK builds, a runtime image runs");
        froms[0].Arguments.Should().StartWith("mcr.microsoft.com/dotnet/sdk:10.0");
        var publish = instructions.Should().ContainSingle(i => i.Keyword == "RUN" && i.Arguments.Contains("dotnet publish", StringComparison.Ordinal)).Subject;
        publish.Arguments.Should().Contain("src/MaaS.Server").And.Contain("-c Release").And.Contain("-r linux-x64")
            .And.Contain("--self-contained false").And.Contain($"-p:OnnxRuntimeFlavor={flavour}");

        var user = finalStage.Where(i => i.Keyword == "USER").Should().NotBeEmpty().And.Subject.Last().Arguments;
        user.Should().Be("$APP_UID");

        var healthcheck = finalStage.Should().ContainSingle(i => i.Keyword == "HEALTHCHECK").Subject.Arguments;
        healthcheck.Should().Contain($"http://127.0.0.1:{Port}{LivePath}");
        var tool = healthcheck[(healthcheck.IndexOf("CMD ", StringComparison.Ordinal) + 4)..].Split(' ')[0];
        finalStage.Should().Contain(i => i.Keyword == "RUN" && i.Arguments.Contains("apt-get install", StringComparison.Ordinal)
                && i.Arguments.Contains($" {tool}", StringComparison.Ordinal),
            "the runtime image should install the healthcheck's {0}: the .NET images have neither curl nor wget", tool);

        var environment = string.Join(' ', finalStage.Where(i => i.Keyword == "ENV").Select(i => i.Arguments));
        environment.Should().Contain("MaaS__ModelRepository=/models").And.Contain("MaaS__Logging__Json=true").And.Contain($":{Port}");
        finalStage.Should().Contain(i => i.Keyword == "EXPOSE" && i.Arguments == $"{Port} {GrpcPort}", "HTTP and gRPC ports");
        finalStage.Should().Contain(i => i.Keyword == "VOLUME" && i.Arguments.Contains("/models", StringComparison.Ordinal));
        finalStage.Should().Contain(i => i.Keyword == "COPY" && i.Arguments.Contains("--from=build", StringComparison.Ordinal)
                && i.Arguments.EndsWith("models/ /models/", StringComparison.Ordinal),
            "the bundled models are the default repository, taken from the build stage, where the build wrote all-MiniLM-L6-v2's files");
        instructions.Should().Contain(i => i.Keyword == "COPY" && i.Arguments.StartsWith("src/MaaS.ResourceExtractor/MaaS.ResourceExtractor.csproj", StringComparison.Ordinal),
            "the restore layer needs every project the server's build references");
        if (flavour == "cuda")
        {
            environment.Should().Contain("MaaS__ExecutionProvider=cuda");
            ResolveArgument(instructions, froms[^1].Arguments.Split(' ')[0]).Should().StartWith("nvidia/cuda:").And.Contain("cudnn").And.Contain("runtime");
        }
        else
        {
            froms[^1].Arguments.Should().StartWith("mcr.microsoft.com/dotnet/aspnet:10.0");
        }
    }

    [Fact]
    public void DockerIgnore_KeepsSourcesAndModelsButNotTestsOrBuildOutput()
    {
        var patterns = File.ReadAllLines(Path.Combine(RepositoryPaths.Root, ".dockerignore"))
            .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();

        patterns.Should().Contain(["**/bin/", "**/obj/", "tests/", "models/tools/", "models/all-minilm-l6-v2/vocab.txt", "models/all-minilm-l6-v2-onnx/1/"]);
        patterns.Should().NotContain(p => p.TrimEnd('/') == "src" || p.TrimEnd('/') == "models" || p == "*");
    }

    private static List<object> LoadDocuments(string relativePath)
    {
        using var reader = new StringReader(File.ReadAllText(Path.Combine(DockerDirectory, relativePath)));
        // MergingParser resolves `<<: *anchor`, which Compose files use for the settings replicas share.
        var parser = new MergingParser(new Parser(reader));
        var deserializer = new DeserializerBuilder().Build();
        var documents = new List<object>();
        parser.Consume<StreamStart>();
        while (parser.Accept<DocumentStart>(out _))
        {
            if (deserializer.Deserialize<object?>(parser) is { } document)
            {
                documents.Add(document);
            }
        }

        parser.Consume<StreamEnd>();
        return documents;
    }

    private static List<(string File, object Document)> KubernetesDocuments() =>
        YamlFileList()
            .Where(f => f.StartsWith("k8s/", StringComparison.Ordinal))
            .SelectMany(f => LoadDocuments(f).Select(d => (f, d)))
            .ToList();

    private static object Document(string kind) =>
        KubernetesDocuments().Where(d => Text(d.Document, "kind") == kind).Should().ContainSingle("one {0} manifest", kind).Subject.Document;

    private static object ServerContainer() =>
        List(Document("Deployment"), "spec.template.spec.containers").Should().ContainSingle(c => Text(c, "name") == "maas").Subject;

    private static IEnumerable<object> Containers(object document)
    {
        var pod = Text(document, "kind") switch
        {
            "ClusterServingRuntime" or "ServingRuntime" => At(document, "spec"),
            "InferenceService" => null,
            _ => At(document, "spec.template.spec"),
        };
        return pod is null ? [] : List(pod, "containers").Concat(List(pod, "initContainers"));
    }

    private static List<KeyValuePair<string, object>> MaasServices(object compose) =>
        Map(At(compose, "services"))
            .Where(s => Text(s.Value, "image")?.StartsWith("maas:", StringComparison.Ordinal) == true)
            .Select(s => new KeyValuePair<string, object>((string)s.Key, s.Value))
            .ToList();

    private static string? Env(object container, string name) =>
        Text(List(container, "env").Should().ContainSingle(e => Text(e, "name") == name, "env {0} should be set once", name).Subject, "value");

    private static string? ComposeEnv(object service, string name) => At(service, "environment") switch
    {
        Dictionary<object, object> map => map.TryGetValue(name, out var value) ? value as string : null,
        List<object> list => list.Cast<string>().Select(e => e.Split('=', 2)).Where(kv => kv[0] == name).Select(kv => kv.ElementAtOrDefault(1)).FirstOrDefault(),
        _ => null,
    };

    private static string? ProbePort(object container, string probe) => ResolvePort(container, Text(container, $"{probe}.httpGet.port"));

    /// <summary>A port by number, or by the name of one of the container's ports.</summary>
    private static string? ResolvePort(object container, string? port) =>
        port is null || port.All(char.IsAsciiDigit)
            ? port
            : List(container, "ports").Where(p => Text(p, "name") == port).Select(p => Text(p, "containerPort")).SingleOrDefault();

    private static object? At(object? node, string path)
    {
        foreach (var key in path.Split('.'))
        {
            if (node is not Dictionary<object, object> map || !map.TryGetValue(key, out node))
            {
                return null;
            }
        }

        return node;
    }

    private static string? Text(object? node, string path) => At(node, path) as string;

    private static List<object> List(object? node, string path) => At(node, path) as List<object> ?? [];

    private static Dictionary<object, object> Map(object? node) => node as Dictionary<object, object> ?? [];

    private static int Int(string? value)
    {
        value.Should().NotBeNull();
        return int.Parse(value!, NumberStyles.None, CultureInfo.InvariantCulture);
    }

    /// <summary>Compose durations as written here: "45s", "1m", "1m30s".</summary>
    private static int Seconds(string? duration)
    {
        var match = Duration().Match(duration ?? "");
        match.Success.Should().BeTrue("'{0}' should be a duration like 45s or 1m30s", duration);
        return (match.Groups[1].Success ? Int(match.Groups[1].Value) * 60 : 0) + (match.Groups[2].Success ? Int(match.Groups[2].Value) : 0);
    }

    /// <summary>nginx sizes: 64m, 2g, 512k, or bytes.</summary>
    private static long Bytes(string size) => size[^1] switch
    {
        'k' or 'K' => long.Parse(size[..^1], CultureInfo.InvariantCulture) * 1024,
        'm' or 'M' => long.Parse(size[..^1], CultureInfo.InvariantCulture) * 1024 * 1024,
        'g' or 'G' => long.Parse(size[..^1], CultureInfo.InvariantCulture) * 1024 * 1024 * 1024,
        _ => long.Parse(size, CultureInfo.InvariantCulture),
    };

    private static string NginxConf() =>
        string.Join('\n', File.ReadAllLines(Path.Combine(DockerDirectory, "nginx.conf")).Select(l => CommentOrQuoted().Replace(l, m => m.Value.StartsWith('#') ? "" : m.Value)));

    private static string NginxListenPort() =>
        File.ReadAllLines(Path.Combine(DockerDirectory, "nginx.conf")).Select(l => ListenLine().Match(l)).Should().ContainSingle(m => m.Success).Subject.Groups[1].Value;

    /// <summary>Dockerfile instructions with continuation lines joined and comments dropped.</summary>
    private static List<(string Keyword, string Arguments)> DockerInstructions(string file)
    {
        var instructions = new List<(string, string)>();
        var current = "";
        foreach (var raw in File.ReadAllLines(Path.Combine(DockerDirectory, file)))
        {
            var line = raw.Trim();
            if (line.StartsWith('#') || (line.Length == 0 && current.Length == 0))
            {
                continue;
            }

            current += (current.Length > 0 ? " " : "") + line.TrimEnd('\\').Trim();
            if (!line.EndsWith('\\'))
            {
                var space = current.IndexOf(' ', StringComparison.Ordinal);
                instructions.Add((current[..space].ToUpperInvariant(), Whitespace().Replace(current[(space + 1)..], " ").Trim()));
                current = "";
            }
        }

        return instructions;
    }

    /// <summary>Resolves <c>${NAME}</c> from the ARG default before the first FROM.</summary>
    private static string ResolveArgument(List<(string Keyword, string Arguments)> instructions, string value)
    {
        var name = ArgumentReference().Match(value);
        if (!name.Success)
        {
            return value;
        }

        var declaration = instructions.Where(i => i.Keyword == "ARG" && i.Arguments.StartsWith(name.Groups[1].Value + "=", StringComparison.Ordinal))
            .Should().ContainSingle("ARG {0} should have a default", name.Groups[1].Value).Subject;
        return declaration.Arguments[(name.Groups[1].Value.Length + 1)..];
    }

    [GeneratedRegex(@"(?m)^\s*client_max_body_size\s+(\d+[kKmMgG]?);")]
    private static partial Regex ClientMaxBodySize();

    [GeneratedRegex(@"location\s+/v2/repository/models/\s*\{[^}]*\}")]
    private static partial Regex UploadLocation();

    [GeneratedRegex(@"^\s*server\s+([A-Za-z0-9_.-]+):(\d+)\s+max_fails=\d+\s+fail_timeout=\d+s;\s*$")]
    private static partial Regex UpstreamServer();

    [GeneratedRegex(@"^\s*listen\s+(\d+);\s*#\s*listen-port\s*$")]
    private static partial Regex ListenLine();

    [GeneratedRegex(@"""[^""]*""|#.*$")]
    private static partial Regex CommentOrQuoted();

    [GeneratedRegex(@"^(?:(\d+)m)?(?:(\d+)s)?$")]
    private static partial Regex Duration();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$")]
    private static partial Regex ArgumentReference();
}
