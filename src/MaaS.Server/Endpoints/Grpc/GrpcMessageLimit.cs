using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Grpc.Core;
using Microsoft.AspNetCore.Http.Features;

namespace MaaS.Server.Endpoints.Grpc;

/// <summary>
/// Per-method message size limits, which gRPC's own options cannot give (they are per service): the service accepts
/// messages up to the repository load limit, and this reader refuses any message of any other method past
/// MaaS:Limits:MaxRequestBodyBytes (as HTTP refuses a body) from its 5-byte frame header, before gRPC buffers it.
/// </summary>
internal sealed class GrpcMessageLimit(PipeReader inner, long maxMessageBytes) : PipeReader, IRequestBodyPipeFeature
{
    private const int HeaderLength = 5;

    /// <summary>The one method whose messages may be larger: a model file travels in it.</summary>
    public const string LoadPath = "/inference.GRPCInferenceService/RepositoryModelLoad";

    private ReadOnlySequence<byte> _buffer;
    private long _bufferStart;
    private long _nextHeader;

    PipeReader IRequestBodyPipeFeature.Reader => this;

    /// <summary>Puts the limit on every gRPC call but a repository load.</summary>
    public static void Apply(HttpContext context, long maxMessageBytes)
    {
        if (GrpcStatusCodes.IsGrpc(context) && !context.Request.Path.Equals(LoadPath, StringComparison.Ordinal))
        {
            context.Features.Set<IRequestBodyPipeFeature>(new GrpcMessageLimit(context.Request.BodyReader, maxMessageBytes));
        }
    }

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        var result = await inner.ReadAsync(cancellationToken);
        Check(result.Buffer);
        return result;
    }

    public override bool TryRead(out ReadResult result)
    {
        if (!inner.TryRead(out result))
        {
            return false;
        }

        Check(result.Buffer);
        return true;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        _bufferStart += _buffer.Slice(0, consumed).Length;
        _buffer = default;
        inner.AdvanceTo(consumed, examined);
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    /// <summary>Reads every frame header the buffer has reached (stream offsets: the buffer starts at <see cref="_bufferStart"/>).</summary>
    private void Check(ReadOnlySequence<byte> buffer)
    {
        _buffer = buffer;
        Span<byte> header = stackalloc byte[HeaderLength];
        while (_nextHeader + HeaderLength <= _bufferStart + buffer.Length)
        {
            buffer.Slice(_nextHeader - _bufferStart, HeaderLength).CopyTo(header);
            var length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
            if (length > maxMessageBytes)
            {
                throw new RpcException(new Status(
                    StatusCode.ResourceExhausted,
                    $"request message is larger than the limit of {maxMessageBytes} bytes (MaaS:Limits:MaxRequestBodyBytes)"));
            }

            _nextHeader += HeaderLength + length;
        }
    }
}
