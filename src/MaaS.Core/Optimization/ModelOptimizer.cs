using System.Collections.Concurrent;
using MaaS.Core.Inference;
using MaaS.Core.Registry;
using MaaS.Core.Repository;
using MaaS.Core.Sessions;
using Microsoft.Extensions.Logging;

namespace MaaS.Core.Optimization;

/// <summary>
/// The optimize operation: derives a version from another with one <see cref="IModelTransform"/>, runs both on the
/// same validation inputs, and keeps the result as a new version (written, loaded and warmed up like an upload, with
/// its report beside it) only when it stays within the acceptance bounds. One optimisation runs at a time in the
/// process (the work takes every CPU it is given); a second one for the same model is refused (409), others wait.
/// The registry's lock is held only while the version is added, never while measuring.
/// </summary>
public sealed partial class ModelOptimizer : IDisposable
{
    private readonly Dictionary<string, IModelTransform> _transforms = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _running = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ModelRegistry _registry;
    private readonly LoadedModelCache _cache;
    private readonly ModelManager _manager;
    private readonly CpuBudget _cpu;
    private readonly ILogger<ModelOptimizer> _logger;

    internal ModelOptimizer(
        IEnumerable<IModelTransform> transforms, ModelRegistry registry, LoadedModelCache cache, ModelManager manager, CpuBudget cpu, ILogger<ModelOptimizer> logger)
    {
        // A later registration of a method replaces an earlier one (a host may swap a transform).
        foreach (var transform in transforms)
        {
            _transforms[transform.Method] = transform;
        }

        _registry = registry;
        _cache = cache;
        _manager = manager;
        _cpu = cpu;
        _logger = logger;
    }

    /// <summary>The methods this server knows, sorted.</summary>
    public IReadOnlyList<string> Methods => _transforms.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// Optimises <paramref name="model"/> version <paramref name="version"/>. Returns the report: accepted, with the new
    /// version's number (and <see cref="OptimizeRequest.Label"/> moved to it), or not accepted with the broken bound and
    /// nothing kept. Throws <see cref="ServingException"/>: 400 unknown method or bad inputs, 404 unknown model or
    /// version, 409 a version that cannot serve or an optimisation of the model already running, 422 nothing to
    /// optimise or an optimised model that does not run, 413/507 as uploads.
    /// </summary>
    public async Task<OptimizationReport> OptimizeAsync(
        string model, long version, OptimizeRequest request, long maxModelBytes, CancellationToken cancellationToken)
    {
        var transform = _transforms.GetValueOrDefault(request.Method)
            ?? throw ServingException.Invalid($"unknown optimisation method '{request.Method}'; expected one of: {string.Join(", ", Methods)}");
        if (request.Label is { } label && !ModelRepositoryScanner.IsValidModelName(label))
        {
            throw ServingException.Invalid($"'{label}' is not a valid label name: use letters, digits, '_', '-' and '.', not starting with '.'");
        }

        // An unknown model is a 404 before anything else.
        _registry.GetModel(model);
        if (!_running.TryAdd(model, 0))
        {
            throw new ServingException(FailureKind.Conflict, $"an optimisation of model '{model}' is already running; retry when it has finished");
        }

        try
        {
            await _gate.WaitAsync(cancellationToken);
            try
            {
                return await OptimizeLockedAsync(model, version, transform, request, maxModelBytes, cancellationToken);
            }
            finally
            {
                _gate.Release();
            }
        }
        finally
        {
            _running.TryRemove(model, out _);
        }
    }

    public void Dispose() => _gate.Dispose();

    private async Task<OptimizationReport> OptimizeLockedAsync(
        string model, long version, IModelTransform transform, OptimizeRequest request, long maxModelBytes, CancellationToken cancellationToken)
    {
        var (report, staged) = await MeasureAsync(model, version, transform, request, maxModelBytes, cancellationToken);
        using (staged)
        {
            if (!report.Accepted)
            {
                Log.Rejected(_logger, model, version, transform.Method, report.Error!);
                return report;
            }

            staged.DerivedFrom = report.ToDerivedFrom();
            var added = await _manager.AddVersionAsync(model, staged, requestedVersion: null, configJson: null, cancellationToken);
            if (request.Label is { } label)
            {
                await _manager.SetLabelAsync(model, label, added.Number, cancellationToken);
            }

            Log.Optimized(_logger, model, version, transform.Method, added.Number);
            return report with { Version = added.Number };
        }
    }

    /// <summary>
    /// Decodes the request's inputs against the source's signature, leases the source (reloading it when evicted, as a
    /// request would; a bad body never loads anything), then, off the request thread, runs the transform into a staging
    /// file and measures it against the source. The caller owns the staged file.
    /// </summary>
    private async Task<(OptimizationReport Report, StagedFile Staged)> MeasureAsync(
        string model, long version, IModelTransform transform, OptimizeRequest request, long maxModelBytes, CancellationToken cancellationToken)
    {
        var routable = RoutableSource(model, version);
        using var given = request.Inputs is { } json ? ValidationInputs.FromRequest(json, routable.Signature!) : null;
        using var lease = await AcquireSourceAsync(model, version, cancellationToken);
        var directory = _registry.GetModel(model).Directory;
        var signature = lease.Model.Signature;
        var source = new SourceVersion(model, version, directory.VersionFile(version), directory, signature);

        // Minutes of CPU work for a large model: a thread of its own, not one the server's requests are waiting for.
        return await Task.Factory.StartNew(
            () => Measure(source, transform, request, given, maxModelBytes, cancellationToken),
            cancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
    }

    private (OptimizationReport Report, StagedFile Staged) Measure(
        SourceVersion source, IModelTransform transform, OptimizeRequest request, ValidationInputs? given, long maxModelBytes, CancellationToken cancellationToken)
    {
        TransformOutcome? outcome = null;
        var staged = _manager.StageDerived(path => outcome = Apply(transform, source.Path, path, cancellationToken), maxModelBytes);
        try
        {
            using var comparison = new ModelComparison(source.Path, staged.Path, _cpu.Cpus);
            using var chosen = given is null ? ChooseInputs(source, comparison, cancellationToken) : null;
            var validation = given ?? chosen!;
            var outputs = comparison.CompareOutputs(validation.Requests, source.Signature, cancellationToken);
            var latency = comparison.MeasureLatency(validation.Requests, cancellationToken);
            var accuracy = OutputDifference.Worst(outputs.Values);
            var bounds = AcceptanceBounds.For(transform.Method, request);
            var error = bounds.Check(accuracy);
            var report = new OptimizationReport
            {
                Model = source.Model,
                SourceVersion = source.Number,
                Method = transform.Method,
                Accepted = error is null,
                Error = error,
                SizeBytes = new SourceAndOptimized<long>(new FileInfo(source.Path).Length, staged.Size),
                LatencyUs = latency,
                Accuracy = accuracy,
                Outputs = outputs,
                NodesChanged = outcome!.NodesChanged,
                NodesTotal = outcome.NodesTotal,
                Notes = outcome.Notes,
                ValidationInputs = new ValidationSummary(validation.Source, validation.Requests.Count, validation.Generated),
                Bounds = bounds,
            };
            return (report, staged);
        }
        catch
        {
            staged.Dispose();
            throw;
        }
    }

    private static TransformOutcome Apply(IModelTransform transform, string sourcePath, string destinationPath, CancellationToken cancellationToken)
    {
        try
        {
            return transform.Apply(sourcePath, destinationPath, cancellationToken);
        }
        catch (NothingToOptimizeException ex)
        {
            throw new ServingException(FailureKind.Unprocessable, ex.Message, ex);
        }
    }

    /// <summary>The model's warmup samples, else generated inputs of the first shape the source accepts (422 when it accepts none).</summary>
#pragma warning disable CA2000 // the inputs chosen go to the caller, which disposes them; those refused are disposed here
    private static ValidationInputs ChooseInputs(SourceVersion source, ModelComparison comparison, CancellationToken cancellationToken)
    {
        try
        {
            var warmup = ValidationInputs.FromWarmup(source.Directory.Config?.ModelWarmup, source.Signature, source.Directory.Path);
            if (warmup is not null)
            {
                return warmup;
            }
        }
        catch (ModelConfigException ex)
        {
            throw new ServingException(FailureKind.Unprocessable, $"the model's warmup samples cannot be used as validation inputs: {ex.Message}; send \"inputs\"", ex);
        }

        foreach (var shape in GeneratedShape.Attempts)
        {
            var generated = ValidationInputs.Generate(source.Signature, shape);
            if (comparison.SourceAccepts(generated.Requests[0], cancellationToken))
            {
                return generated;
            }

            generated.Dispose();
        }

        throw new ServingException(
            FailureKind.Unprocessable, $"model '{source.Model}' refuses every generated validation input; send \"inputs\" (V2 input tensors) with the request");
    }
#pragma warning restore CA2000

    /// <summary>
    /// The source as the registry holds it: 404 when unknown; 409 unless it is READY or evicted (and so has a
    /// signature), and for a version on disk that the version policy does not serve.
    /// </summary>
    private ModelVersion RoutableSource(string model, long version)
    {
        var registered = _registry.GetModel(model);
        if (!registered.Versions.TryGetValue(version, out var found))
        {
            throw registered.Directory.Versions.Contains(version)
                ? new ServingException(FailureKind.Conflict, $"model '{model}' version {version} is not served (the version policy does not select it); label it or change the policy to optimise it")
                : ServingException.VersionNotFound(model, version);
        }

        if (!found.IsRoutable)
        {
            throw new ServingException(
                FailureKind.Conflict,
                $"model '{model}' version {version} is {found.State.ToString().ToUpperInvariant()}{(found.Reason is null ? "" : $" ({found.Reason})")}; only a READY version can be optimised");
        }

        return found.Signature is null
            ? throw new ServingException(FailureKind.Conflict, $"model '{model}' version {version} is not loaded; retry")
            : found;
    }

    /// <summary>A lease on the source (checked by <see cref="RoutableSource"/>), loaded again first when it was evicted, as a request would; 409 when it cannot serve now.</summary>
    private async Task<VersionLease> AcquireSourceAsync(string model, long version, CancellationToken cancellationToken)
    {
        try
        {
            return await _cache.AcquireAsync(model, version, label: null, cancellationToken);
        }
        catch (ServingException ex) when (ex.Kind == FailureKind.NotReady)
        {
            throw new ServingException(FailureKind.Conflict, $"model '{model}' version {version} cannot serve now: {ex.Message}", ex);
        }
    }

    private sealed record SourceVersion(string Model, long Number, string Path, ModelDirectory Directory, ModelSignature Signature);

    private static partial class Log
    {
        [LoggerMessage(EventId = 1060, Level = LogLevel.Information, Message = "Optimised {ModelName} v{SourceVersion} with {Method} into v{ModelVersion}")]
        public static partial void Optimized(ILogger logger, string modelName, long sourceVersion, string method, long modelVersion);

        [LoggerMessage(EventId = 1061, Level = LogLevel.Information, Message = "Optimisation of {ModelName} v{SourceVersion} with {Method} not kept: {Reason}")]
        public static partial void Rejected(ILogger logger, string modelName, long sourceVersion, string method, string reason);
    }
}
