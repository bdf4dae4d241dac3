using Native.Map.Memory;
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

    [Test]
    public void Doubling_PrefaultsItsNewArray_WhileTheEvacuationWritesIt()
    {
        RequirePopulate();
        WaitForIdleWorker();
        long populatedBefore = PageWorker.PopulatedBytes;
        long droppedBefore = PageWorker.DroppedPopulateJobs;
        // 600,000 entries: doublings to B = 15..17 allocate arrays of 4.7 MiB and more, and every
        // one of those is started by the load factor, so each is handed to the worker.
        using var map = new NativeMap<long, long>();
        for (long i = 0; i < 600_000; i++)
        {
            map[i * 7919] = i;
        }
        int b = map.GetStats().B;
        Assert.That(b, Is.EqualTo(17), "the test expects the last doubling to reach B = 17");
        WaitForIdleWorker();
        // The live array (B = 17, 18.9 MB of buckets) cannot have been cancelled: the map still owns it.
        long lastArray = (1L << 17) * Native.Map.Core.Bucket<long, long>.Size;
        Assert.That(PageWorker.PopulatedBytes - populatedBefore, Is.GreaterThanOrEqualTo(lastArray),
            "the doubling's new array was not faulted in by the worker");
        Assert.That(PageWorker.DroppedPopulateJobs, Is.EqualTo(droppedBefore));
        for (long i = 0; i < 600_000; i++)
        {
            Assert.That(map.TryGetValue(i * 7919, out long v) && v == i, $"key {i * 7919} lost or changed while its array was pre-faulted");
        }
        map.CheckInvariants();
    }

    [Test]
    public void PrefaultGrowthOff_AndCapacityTargets_PrefaultNothing()
    {
        RequirePopulate();
        WaitForIdleWorker();
        long populatedBefore = PageWorker.PopulatedBytes;
        NativeMapMemory.PrefaultGrowth = false;
        try
        {
            using var map = new NativeMap<long, long>();
            for (long i = 0; i < 300_000; i++)
            {
                map[i] = i;
            }
            Assert.That(map.GetStats().B, Is.GreaterThanOrEqualTo(16));
        }
        finally
        {
            NativeMapMemory.PrefaultGrowth = true;
        }
        // EnsureCapacity on a map with entries doubles toward its target, one doubling per
        // evacuation, on the inserts that follow: arrays that may never be filled keep their pages
        // unallocated. 100,000 entries need B = 14 by the load factor; the target is B = 19.
        using (var target = new NativeMap<long, long>())
        {
            for (long i = 0; i < 1_000; i++)
            {
                target[i] = i;
            }
            target.EnsureCapacity(2_000_000);
            for (long i = 1_000; i < 100_000; i++)
            {
                target[i] = i;
            }
            Assert.That(target.GetStats().B, Is.GreaterThanOrEqualTo(16), "EnsureCapacity's doublings did not run");
        }
        WaitForIdleWorker();
        Assert.That(PageWorker.PopulatedBytes, Is.EqualTo(populatedBefore));
    }

    [Test]
    public unsafe void ReleasingAnArrayBeingPrefaulted_CancelsTheRestBeforeUnmapping()
    {
        RequirePopulate();
        WaitForIdleWorker();
        const nuint half = 64 * 1024 * 1024;
        long populatedBefore = PageWorker.PopulatedBytes;
        long cancelledBefore = PageWorker.CancelledPopulateJobs;
        byte* block = (byte*)LinuxPages.Map(2 * half);
        PageWorker.PostPopulate(block, half);
        LinuxPages.Unmap(block, 2 * half);
        WaitForIdleWorker();
        long populated = PageWorker.PopulatedBytes - populatedBefore;
        long cancelled = PageWorker.CancelledPopulateJobs - cancelledBefore;
        // Either the worker finished the 128 MiB before it saw the release (a descheduled test
        // thread), or it dropped the rest of the job; never a slice after the unmap.
        Assert.That(cancelled == 1 || populated == 2 * (long)half, Is.True,
            $"job neither finished nor cancelled: {populated} bytes populated, {cancelled} cancelled");
        Thread.Sleep(50);
        Assert.That(PageWorker.PopulatedBytes - populatedBefore, Is.EqualTo(populated), "the worker kept faulting in a released block");
    }

    [Test]
    public unsafe void Prefaulting_GoesOnWhileReleasedBlocksAreUnmapped()
    {
        RequirePopulate();
        WaitForIdleWorker();
        // A 256 MiB release takes 64 unmap slices with a 1 ms pause before each; an 8 MiB array
        // posted meanwhile (about 2 ms of page faults) must not wait for all of them.
        const nuint released = 256 * 1024 * 1024;
        const nuint half = 4 * 1024 * 1024;
        byte* old = (byte*)LinuxPages.Map(released);
        byte* fresh = (byte*)LinuxPages.Map(2 * half);
        long populatedBefore = PageWorker.PopulatedBytes;
        try
        {
            LinuxPages.Unmap(old, released);
            PageWorker.PostPopulate(fresh, half);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (PageWorker.PendingPopulateJobs != 0 && DateTime.UtcNow < deadline)
            {
                Thread.Yield();
            }
            long stillQueued = NativeMapMemory.PendingReleaseBytes;
            Assert.That(PageWorker.PopulatedBytes - populatedBefore, Is.EqualTo(2 * (long)half), "the array was not faulted in");
            Assert.That(stillQueued, Is.GreaterThan(0), "the pre-fault waited until the whole release was unmapped");
        }
        finally
        {
            LinuxPages.Unmap(fresh, 2 * half);
            WaitForIdleWorker();
        }
    }

    [Test]
    public void MapsGrowingAndDisposedOnSeveralThreads_KeepEveryEntry_AndLeaveNoJob()
    {
        RequirePopulate();
        WaitForIdleWorker();
        int seed = TestSeed.Next(nameof(MapsGrowingAndDisposedOnSeveralThreads_KeepEveryEntry_AndLeaveNoJob));
        // Four threads each build maps past several pre-faulted doublings and dispose them, some
        // in the middle of a growth (while their newest array is still being faulted in), so jobs
        // are posted from several threads, cancelled by releases, and refused when eight wait.
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var threads = new Thread[4];
        for (int t = 0; t < threads.Length; t++)
        {
            int id = t;
            threads[t] = new Thread(() =>
            {
                var rng = new Random(seed + id);
                for (int round = 0; round < 3; round++)
                {
                    int n = rng.Next(250_000, 900_000);
                    using var map = new NativeMap<long, long>();
                    var keys = new SplitMix64((ulong)(seed * 31 + id * 7 + round));
                    for (int i = 0; i < n; i++)
                    {
                        map[(long)keys.Next()] = i;
                    }
                    keys = new SplitMix64((ulong)(seed * 31 + id * 7 + round));
                    for (int i = 0; i < n; i++)
                    {
                        long k = (long)keys.Next();
                        if (!map.TryGetValue(k, out long v) || v != i)
                        {
                            failures.Enqueue($"thread {id} round {round}: key {k} lost or changed");
                            return;
                        }
                    }
                }
            });
            threads[t].Start();
        }
        foreach (Thread thread in threads)
        {
            thread.Join();
        }
        Assert.That(failures, Is.Empty);
        WaitForIdleWorker();
    }

    [Test]
    public void CapacityArray_TakesOnePageFaultPerPage_NotTwo()
    {
        RequireFaultCounts();
        // Capacity 10^6: 2^18 buckets, 37.7 MB, 9,216 pages, each first touched by an insert. An
        // insert that read its bucket first would map the zero page, then fault again to write.
        using var map = new NativeMap<long, long>(1_000_000);
        Assert.That(map.WritesFirst, Is.True, "a capacity array starts with the write-first touch on");
        long pages = (1L << 18) * Native.Map.Core.Bucket<long, long>.Size / 4096;
        var keys = new SplitMix64(20261124);
        long before = MinorFaults();
        for (long i = 0; i < 400_000; i++)
        {
            map[(long)keys.Next()] = i;
        }
        long faults = MinorFaults() - before;
        TestContext.Out.WriteLine($"{faults} minor faults for {pages} pages of the array");
        Assert.That(faults, Is.GreaterThanOrEqualTo(pages / 2), "the array's pages were not faulted in by the inserts (already populated?)");
        Assert.That(faults, Is.LessThan(pages * 13 / 10 + 500), "inserts fault twice per page: a read maps the zero page first");
        // Past 16 entries per page of the array and its overflow tail the write-first touch is off, and the fast-insert limit with it.
        Assert.That(map.WritesFirst, Is.False, "the write-first touch stayed on past 16 entries per page");
        map.CheckInvariants();
        for (long i = 0; i < 2_000_000; i++)
        {
            map[i] = i; // through the doubling at 6.5 * 2^18 entries
        }
        Assert.That(map.GetStats().B, Is.EqualTo(19));
        map.CheckInvariants();
        using var small = new NativeMap<long, long>(1_000);
        Assert.That(small.WritesFirst, Is.False, "an array from the allocator's heap has no untouched pages to speak of");
    }

    [Test]
    public void OverflowBuckets_TakeOnePageFaultPerPage_NotTwo()
    {
        RequireFaultCounts();
        // Capacity 10^6: 2^18 buckets and a preallocated tail of 2^14 overflow buckets. After
        // 400,000 inserts every page of the array has been touched, so the faults of the next
        // 1.2 million come from overflow buckets, first the tail's, then chunks'. Taking one read
        // its sentinel slot first: on an untouched page that mapped the zero page, and the insert's
        // write right after faulted again.
        using var map = new NativeMap<long, long>(1_000_000);
        var keys = new SplitMix64(20261125);
        for (long i = 0; i < 400_000; i++)
        {
            map[(long)keys.Next()] = i;
        }
        long overflowBefore = map.GetStats().OverflowBucketCount;
        long before = MinorFaults();
        for (long i = 0; i < 1_200_000; i++)
        {
            map[(long)keys.Next()] = i;
        }
        long faults = MinorFaults() - before;
        long overflowPages = (map.GetStats().OverflowBucketCount - overflowBefore) * Native.Map.Core.Bucket<long, long>.Size / 4096;
        TestContext.Out.WriteLine($"{faults} minor faults while {overflowPages} pages' worth of overflow buckets were taken");
        Assert.That(map.GetStats().B, Is.EqualTo(18), "the map grew: its new array's faults would count too");
        Assert.That(overflowPages, Is.GreaterThan(1_000), "too few overflow buckets for the count to mean anything");
        Assert.That(faults, Is.LessThan(overflowPages * 13 / 10 + 500), "overflow buckets fault twice per page: a read maps the zero page first");
        map.CheckInvariants();
    }

    /// <summary>Fault-counting tests run on Linux only, each once the page worker is idle so that the counts are its own.</summary>
    private static void RequireFaultCounts()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Ignore("Counts the process's minor page faults in /proc/self/stat.");
        }
        WaitForIdleWorker();
    }

    private static long MinorFaults()
    {
        string stat = File.ReadAllText("/proc/self/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[7], System.Globalization.CultureInfo.InvariantCulture); // field 10: minflt
    }

    private static void RequirePopulate()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Ignore("Pre-faulting is the Linux path of the system allocator.");
        }
        if (PageWorker.PopulateUnsupported)
        {
            Assert.Ignore("This kernel has no MADV_POPULATE_WRITE (Linux 5.14 and later).");
        }
    }

    /// <summary>Waits until earlier tests' releases and pre-faults are done, so counts are this test's.</summary>
    private static void WaitForIdleWorker()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((PageWorker.PendingPopulateJobs != 0 || NativeMapMemory.PendingReleaseBytes != 0) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(5);
        }
        Assert.That(PageWorker.PendingPopulateJobs, Is.EqualTo(0), "the page worker did not finish its pre-faults");
        Assert.That(NativeMapMemory.PendingReleaseBytes, Is.EqualTo(0), "the page worker did not finish its releases");
    }
}
