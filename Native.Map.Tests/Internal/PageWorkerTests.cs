using Native.Map.Tests.Support;
using NUnit.Framework;

namespace Native.Map.Tests.Internal;

/// <summary>
/// The production allocator's large blocks (bucket arrays and overflow chunks of 256 KiB and more)
/// are unmapped by the page worker, which queues them by writing a header into the freed block.
/// </summary>
public sealed class PageWorkerTests : LeakCheckedTest
{
    [Test]
    public void LargeBlocksReleasedByGrowthAndDispose_AreAllUnmapped()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Ignore("The page worker is the Linux path of the system allocator.");
        }
        // 600,000 entries: growths release arrays of 256 KiB and more (with their overflow chunks, as
        // one batch each), and the last array is released by Dispose.
        using (var map = new NativeMap<long, long>())
        {
            for (long i = 0; i < 600_000; i++)
            {
                map[i * 7919] = i;
            }
            for (long i = 0; i < 600_000; i++)
            {
                Assert.That(map.TryGetValue(i * 7919, out long v) && v == i, $"key {i * 7919} lost while released blocks were being unmapped");
            }
            Assert.That(map.GetStats().B, Is.GreaterThanOrEqualTo(16), "the arrays stayed below the page worker's size");
        }
        // The worker pauses 1 ms per 4 MiB slice; everything must be gone well within seconds.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (NativeMapMemory.PendingReleaseBytes != 0 && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10);
        }
        Assert.That(NativeMapMemory.PendingReleaseBytes, Is.EqualTo(0), "released blocks are still queued for unmapping");
    }
}
