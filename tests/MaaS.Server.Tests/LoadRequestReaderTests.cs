using System.Security.Cryptography;
using System.Text;
using MaaS.Core;
using MaaS.Core.Repository;
using MaaS.Server.Endpoints.V2;
using MaaS.Server.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace MaaS.Server.Tests;

/// <summary>
/// Triton's load request read as a stream: the files' base64 decoded chunk by chunk, whatever JSON escapes a writer
/// used, with memory that does not grow with the file.
/// </summary>
public sealed class LoadRequestReaderTests : IDisposable
{
    private readonly TempRepository _repository = new();

    private readonly DiskModelStore _store;

    public LoadRequestReaderTests() =>
        _store = new DiskModelStore(Options.Create(new MaaSOptions { ModelRepository = _repository.Path }), TimeProvider.System);

    public void Dispose() => _repository.Dispose();

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 1)]
    [InlineData(false, 7)]
    [InlineData(true, 13)]
    public async Task ReadAsync_FilesOfEveryChunkAlignment_DecodeToTheirBytes(bool escaped, int chunk)
    {
        var file = RandomNumberGenerator.GetBytes(300_001);
        var base64 = Convert.ToBase64String(file);
        var text = escaped ? base64.Replace("+", "\\u002B", StringComparison.Ordinal).Replace("/", "\\/", StringComparison.Ordinal) : base64;
        var body = $$"""{"name": "x", "parameters": {"config": "{\"max_batch_size\": 0}", "file:3/model.onnx": "{{text}}", "file:1/model.onnx" : "AAEC"}, "after": [1, {"parameters": 2}]}""";

        var (config, files) = await ReadAsync(new TrickleStream(Encoding.UTF8.GetBytes(body), chunk));

        Encoding.UTF8.GetString(config!).Should().Be("""{"max_batch_size": 0}""");
        files.Keys.Should().BeEquivalentTo([3L, 1L]);
        (await File.ReadAllBytesAsync(files[3].Path)).Should().Equal(file);
        files[3].Sha256.Should().Be(Convert.ToHexStringLower(SHA256.HashData(file)), "the file is hashed as it is staged");
        (await File.ReadAllBytesAsync(files[1].Path)).Should().Equal(0, 1, 2);
        DisposeAll(files);
    }

    [Theory]
    [InlineData("", null)]
    [InlineData("{}", null)]
    [InlineData("""{"parameters": {}}""", null)]
    [InlineData("[1]", "must be a JSON object")]
    [InlineData("""{"parameters": 3}""", "\"parameters\" must be an object")]
    [InlineData("""{"parameters": {"config": 3}}""", "load parameter 'config' must be a string")]
    [InlineData("""{"parameters": {"file:1/model.onnx": 3}}""", "load parameter 'file:1/model.onnx' must be a string")]
    [InlineData("""{"parameters": {"other": "x"}}""", "unsupported load parameter 'other'")]
    [InlineData("""{"parameters": {"file:1/model.onnx": "AA=A"}}""", "'file:1/model.onnx' is not valid base64")]
    [InlineData("""{"parameters": {"file:1/model.onnx": "AA\t"}}""", "'file:1/model.onnx' is not valid base64")]
    [InlineData("""{"parameters": {"file:1/model.onnx": "AAAA""", "ends inside 'file:1/model.onnx'")]
    [InlineData("""{"parameters": {"file:1/model.onnx": "AAAA"}""", "malformed JSON in load request")]
    [InlineData("""{"parameters": {"config": "x",}}""", "malformed JSON in load request")]
    public async Task ReadAsync_EveryMalformedShape_IsA400NamingIt(string body, string? error)
    {
        var read = () => ReadAsync(new TrickleStream(Encoding.UTF8.GetBytes(body), 5));

        if (error is null)
        {
            var (config, files) = await read();
            config.Should().BeNull();
            files.Should().BeEmpty();
            return;
        }

        var thrown = (await read.Should().ThrowAsync<ServingException>()).Which;
        thrown.Kind.Should().Be(FailureKind.InvalidInput);
        thrown.Message.Should().Contain(error);
    }

    [Fact]
    public async Task ReadAsync_ValueOtherThanAFileOverTheLimit_Is413()
    {
        var body = "{\"parameters\": {\"config\": \"" + new string('x', 300_000) + "\"}}";

        var read = () => ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(body)), maxValueBytes: 100_000);

        (await read.Should().ThrowAsync<ServingException>()).Which.Kind.Should().Be(FailureKind.PayloadTooLarge);
    }

    [Fact]
    public async Task ReadAsync_A64MiBFile_IsDecodedWithoutHoldingItInMemory()
    {
        const int fileBytes = 64 << 20;
        using var body = new GeneratedLoadRequest(fileBytes);
        long decoded = 0;
        var before = GC.GetAllocatedBytesForCurrentThread();

        var (_, files) = await LoadRequestReader.ReadAsync(body, 1 << 20, async (content, cancellationToken) =>
        {
            var buffer = new byte[1 << 16];
            int read;
            while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
            {
                GeneratedLoadRequest.CheckDecoded(buffer.AsSpan(0, read), decoded);
                decoded += read;
            }

            return await _store.StageAsync(new MemoryStream([1]), 1, cancellationToken);
        }, CancellationToken.None);

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        decoded.Should().Be(fileBytes);
        files.Should().ContainKey(1);
        body.Position.Should().Be(body.Length, "the whole body was read");
        allocated.Should().BeLessThan(4 << 20, "the file passes through in chunks; the old reader held the body, a string and the bytes");
        DisposeAll(files);
    }

    private Task<(byte[]? Config, Dictionary<long, StagedFile> Files)> ReadAsync(Stream body, int maxValueBytes = 1 << 20) =>
        LoadRequestReader.ReadAsync(body, maxValueBytes, (content, cancellationToken) => _store.StageAsync(content, 1 << 30, cancellationToken), CancellationToken.None);

    private static void DisposeAll(Dictionary<long, StagedFile> files)
    {
        foreach (var file in files.Values)
        {
            file.Dispose();
        }
    }

    /// <summary>Hands out a body a few bytes per read, so every token and escape is split somewhere.</summary>
    private sealed class TrickleStream(byte[] data, int chunk) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(chunk, buffer.Length)], cancellationToken);
    }

    /// <summary>
    /// <c>{"parameters": {"config": "{}", "file:1/model.onnx": "&lt;base64&gt;"}}</c> made up as it is read, for a file
    /// whose byte i is (i * 7) mod 251: nothing of its size ever exists in memory.
    /// </summary>
    private sealed class GeneratedLoadRequest(int fileBytes) : Stream
    {
        private static readonly byte[] Head = """{"parameters": {"config": "{}", "file:1/model.onnx": " """u8.ToArray()[..^1];
        private static readonly byte[] Tail = "\"}}"u8.ToArray();
        private readonly long _base64Length = (fileBytes + 2L) / 3 * 4;
        private readonly byte[] _block = new byte[3];
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => Head.Length + _base64Length + Tail.Length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public static void CheckDecoded(ReadOnlySpan<byte> bytes, long offset)
        {
            for (var i = 0; i < bytes.Length; i++)
            {
                if (bytes[i] != FileByte(offset + i))
                {
                    throw new InvalidDataException($"decoded byte {offset + i} is {bytes[i]}, expected {FileByte(offset + i)}");
                }
            }
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var written = 0;
            while (written < count && _position < Length)
            {
                buffer[offset + written++] = ByteAt(_position++);
            }

            return written;
        }

        private static byte FileByte(long index) => (byte)(index * 7 % 251);

        private byte ByteAt(long position)
        {
            if (position < Head.Length)
            {
                return Head[position];
            }

            position -= Head.Length;
            if (position >= _base64Length)
            {
                return Tail[position - _base64Length];
            }

            var quantum = position / 4;
            Span<byte> chars = stackalloc byte[4];
            var length = (int)Math.Min(3, fileBytes - (quantum * 3));
            for (var i = 0; i < length; i++)
            {
                _block[i] = FileByte((quantum * 3) + i);
            }

            System.Buffers.Text.Base64.EncodeToUtf8(_block.AsSpan(0, length), chars, out _, out _);
            return chars[(int)(position % 4)];
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
