using System.Text;
using MaaS.Server.Hosting;
using MaaS.Server.Hosting.Metrics;
using Microsoft.AspNetCore.Http;

namespace MaaS.Server.Tests.Hosting;

public sealed class PerRequestAllocationTests
{
    [Theory]
    [InlineData(0.00005, 0)]
    [InlineData(0.0001, 0)]
    [InlineData(0.0002, 1)]
    [InlineData(0.003, 5)]
    [InlineData(10, 15)]
    public void HistogramCountsAnObservationInTheFirstBucketWhoseBoundHoldsIt(double seconds, int bucket)
    {
        var histogram = new LatencyHistogram();

        histogram.Observe(TimeSpan.FromSeconds(seconds));

        for (var i = 0; i < LatencyHistogram.Bounds.Length; i++)
        {
            histogram.CumulativeCount(i).Should().Be(i < bucket ? 0 : 1, $"bucket {i} (le {LatencyHistogram.Bounds[i]})");
        }

        histogram.Count.Should().Be(1);
    }

    [Fact]
    public void HistogramCountsAnObservationPastTheLastBoundOnlyInItsTotal()
    {
        var histogram = new LatencyHistogram();

        histogram.Observe(TimeSpan.FromSeconds(11));

        histogram.CumulativeCount(LatencyHistogram.Bounds.Length - 1).Should().Be(0);
        histogram.Count.Should().Be(1);
        histogram.SumSeconds.Should().Be(11);
    }

    [Fact]
    public void HistogramObservationAllocatesNothing()
    {
        var histogram = new LatencyHistogram();
        histogram.Observe(TimeSpan.FromMilliseconds(3));

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            histogram.Observe(TimeSpan.FromMilliseconds(i));
        }

        (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0);
        histogram.Count.Should().Be(1001);
    }

    [Theory]
    [InlineData(4096)]
    [InlineData(16 * 1024)]
    [InlineData(1 << 20)]
    [InlineData(5000)]
    public async Task BodyWithAContentLengthIsReadWholeWithoutAReadPastItsEnd(int size)
    {
        var bytes = Enumerable.Range(0, size).Select(i => (byte)(i * 31)).ToArray();
        await using var stream = new EndGuardStream(bytes);
        var context = new DefaultHttpContext();
        context.Request.Body = stream;
        context.Request.ContentLength = size;

        using var body = await RequestBody.ReadAsync(context.Request, limit: 2 << 20, CancellationToken.None);

        body.Length.Should().Be(size);
        body.Span.SequenceEqual(bytes).Should().BeTrue();
        stream.ReadsPastEnd.Should().Be(0, "the server delivers exactly Content-Length bytes, so a read for more only costs a grow");
    }

    [Fact]
    public async Task BodyWithoutAContentLengthIsReadToItsEnd()
    {
        var bytes = Enumerable.Range(0, 16 * 1024).Select(i => (byte)i).ToArray();
        await using var stream = new EndGuardStream(bytes);
        var context = new DefaultHttpContext();
        context.Request.Body = stream;

        using var body = await RequestBody.ReadAsync(context.Request, limit: 1 << 20, CancellationToken.None);

        body.Span.SequenceEqual(bytes).Should().BeTrue();
        stream.ReadsPastEnd.Should().Be(1, "without a length only the final zero-length read ends the body");
    }

    [Fact]
    public void PooledWriterKeepsWhatWasWrittenAcrossGrowth()
    {
        using var writer = new PooledBufferWriter(16);
        var expected = new StringBuilder();
        for (var i = 0; i < 500; i++)
        {
            var text = Encoding.UTF8.GetBytes($"{i},");
            text.CopyTo(writer.GetSpan(text.Length));
            writer.Advance(text.Length);
            expected.Append(i).Append(',');
        }

        Encoding.UTF8.GetString(writer.WrittenSpan).Should().Be(expected.ToString());
        writer.WrittenCount.Should().Be(expected.Length);
    }

    [Fact]
    public void PooledWriterRefusesUseAfterDisposeAndAdvancingPastItsRoom()
    {
        var writer = new PooledBufferWriter(16);
        var room = writer.GetSpan().Length;

        FluentActions.Invoking(() => writer.Advance(room + 1)).Should().Throw<ArgumentOutOfRangeException>();
        writer.Dispose();
        FluentActions.Invoking(() => writer.GetSpan()).Should().Throw<ObjectDisposedException>();
    }

    /// <summary>Serves its bytes a chunk at a time, like a socket, and counts reads made once they are all given.</summary>
    private sealed class EndGuardStream(byte[] bytes) : Stream
    {
        private int _position;

        public int ReadsPastEnd { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_position == bytes.Length)
            {
                ReadsPastEnd++;
                return 0;
            }

            var n = Math.Min(Math.Min(buffer.Length, 3000), bytes.Length - _position);
            bytes.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
