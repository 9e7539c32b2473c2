using NodeCache.Fill;
using NodeCache.Oci;
using NodeCache.Testing;

namespace NodeCache.Core.Tests.Fill;

public sealed class BlobFillTests : IDisposable
{
    private readonly TempFolder _folder = TempFolder.Create("blob-fill");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task A_reader_opening_the_file_while_it_moves_into_the_cache_always_finds_it()
    {
        for (var round = 0; round < 200; round++)
        {
            var temp = _folder.Combine($"temp-{round}");
            var cached = _folder.Combine($"cached-{round}");
            await File.WriteAllBytesAsync(temp, [1, 2, 3]);
            var fill = new BlobFill(Digest.Compute([1, 2, 3]), 3, MediaTypes.OctetStream, temp);
            using var stop = new CancellationTokenSource();
            var opens = Task.Run(() =>
            {
                var count = 0;
                while (!stop.IsCancellationRequested || count == 0)
                {
                    using var handle = fill.OpenRead();
                    count++;
                }
                return count;
            });

            fill.Finish(() =>
            {
                File.Move(temp, cached);
                return cached;
            });
            fill.Commit();
            await stop.CancelAsync();

            Assert.True(await opens > 0);
            Assert.Equal(FillState.Committed, fill.State);
        }
    }

    [Fact]
    public async Task Waiting_for_progress_wakes_on_new_bytes_and_on_the_end()
    {
        var fill = new BlobFill(Digest.Compute([1]), 10, MediaTypes.OctetStream, _folder.Combine("t"));

        var wait = fill.WaitForProgressAsync(0, CancellationToken.None);
        Assert.False(wait.IsCompleted);
        fill.Advance(4);
        await wait.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.True(fill.WaitForProgressAsync(3, CancellationToken.None).IsCompleted);
        var end = fill.WaitForProgressAsync(4, CancellationToken.None);
        fill.Fail("gone");
        await end.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(FillState.Failed, await fill.Ended);
        Assert.Equal("gone", fill.FailureReason);
    }
}
