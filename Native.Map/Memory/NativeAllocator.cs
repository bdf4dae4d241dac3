using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Native.Map.Memory;

/// <summary>
/// The one gate between the maps and native memory: every bucket array, overflow chunk, indirect
/// key/value block and header extra is allocated and freed here. Tests substitute their own
/// allocator (fault injection, tracking, guard pages) through the same seam.
/// </summary>
/// <remarks>
/// Contract for implementations: <see cref="Allocate"/> returns a block aligned to at least 64 bytes
/// when the size is at least 64 (and to 16 otherwise), zero-filled when asked,
/// or throws <see cref="OutOfMemoryException"/>; it never returns null. <see cref="Free"/> receives
/// exactly the pointer and size that were allocated.
/// </remarks>
internal abstract unsafe class NativeAllocator
{
    /// <summary>The allocator maps use unless a test gives them another.</summary>
    public static NativeAllocator Default { get; } = new SystemAllocator();

    /// <summary>Allocates <paramref name="bytes"/> (&gt; 0) bytes.</summary>
    public abstract void* Allocate(nuint bytes, bool zeroed);

    /// <summary>Frees a block returned by <see cref="Allocate"/>.</summary>
    public abstract void Free(void* block, nuint bytes);

    /// <summary>
    /// Advice that the first 2 * <paramref name="half"/> bytes of <paramref name="block"/> (returned by
    /// <see cref="Allocate"/>) will all be written soon, the two halves in step: a doubling's
    /// evacuation writes bucket i and bucket i + 2^B together. The default does nothing.
    /// </summary>
    public virtual void PrefaultHalves(void* block, nuint half)
    {
    }

    /// <summary>
    /// Whether a block of <paramref name="bytes"/> from <see cref="Allocate"/> starts with its pages
    /// unmapped, so that a read before the first write of a page maps the kernel's shared zero page
    /// and the write faults a second time (Linux anonymous mappings). The default says no.
    /// </summary>
    public virtual bool PagesStartUnmapped(nuint bytes) => false;
}

/// <summary>
/// The production allocator. Small blocks come from <see cref="NativeMemory.AlignedAlloc"/>; blocks of
/// <see cref="LargeBlock"/> bytes or more come straight from the OS (mmap on Linux), whose pages are
/// zero and only materialise when first touched — so starting a growth to a 300 MB bucket array costs
/// no 300 MB memset, as in Go.
/// </summary>
internal sealed unsafe class SystemAllocator : NativeAllocator
{
    /// <summary>Blocks at least this large are mapped directly from the OS on Linux.</summary>
    public const nuint LargeBlock = 256 * 1024;

    private const nuint Alignment = 64;

    /// <summary>
    /// Starts the page worker with the allocator (the first map), not on the first release, which
    /// is an insert ending a growth: starting a thread there cost that insert 1.3 ms.
    /// </summary>
    public SystemAllocator()
    {
        if (OperatingSystem.IsLinux())
        {
            PageWorker.EnsureStarted();
        }
    }

    /// <summary>Whether a block of <paramref name="bytes"/> is (or was) a mapping of its own (<see cref="LinuxPages.Map"/>) rather than from the C heap.</summary>
    private static bool IsMapping(nuint bytes) => bytes >= LargeBlock && OperatingSystem.IsLinux();

    public override void* Allocate(nuint bytes, bool zeroed)
    {
        if (IsMapping(bytes))
        {
            return LinuxPages.Map(bytes);
        }
        void* p = NativeMemory.AlignedAlloc(bytes, Alignment);
        if (p == null)
        {
            throw new OutOfMemoryException($"NativeMap could not allocate {bytes} bytes of native memory.");
        }
        if (zeroed)
        {
            NativeMemory.Clear(p, bytes);
        }
        return p;
    }

    public override void Free(void* block, nuint bytes)
    {
        if (IsMapping(bytes))
        {
            LinuxPages.Unmap(block, bytes);
            return;
        }
        NativeMemory.AlignedFree(block);
    }

    /// <summary>
    /// Hands a doubling's new array of <see cref="PrefaultThreshold"/> bytes or more to the page
    /// worker, which faults its pages in ahead of the evacuation (Linux, while
    /// <see cref="NativeMapMemory.PrefaultGrowth"/> is on).
    /// </summary>
    public override void PrefaultHalves(void* block, nuint half)
    {
        if (OperatingSystem.IsLinux() && PageWorker.PrefaultGrowth && half >= PrefaultThreshold / 2)
        {
            PageWorker.PostPopulate((byte*)block, half);
        }
    }

    /// <summary>Arrays at least this large are pre-faulted when a doubling allocates them.</summary>
    public const nuint PrefaultThreshold = 4 * 1024 * 1024;

    /// <summary>Large blocks are fresh anonymous mappings on Linux (<see cref="LinuxPages.Map"/>).</summary>
    public override bool PagesStartUnmapped(nuint bytes) => IsMapping(bytes);
}

/// <summary>
/// Anonymous private mappings: page-aligned, zero-filled lazily by the kernel. Releasing the
/// 150 MB array that ends a growth took 13-22 ms inside one insert, so unmapping runs on
/// <see cref="PageWorker"/>, off the writing thread; the block is no longer owned by any map when it
/// is queued. Huge pages are opt-in (<see cref="UseHugePages"/>).
/// </summary>
internal static unsafe partial class LinuxPages
{
    private const int ProtRead = 0x1;
    private const int ProtWrite = 0x2;
    private const int MapPrivate = 0x02;
    private const int MapAnonymous = 0x20;
    private const int MadvHugePage = 14;
    private const int MadvPopulateWrite = 23;

    /// <summary>The size of a page, the unit the kernel maps and faults in.</summary>
    public const nuint PageSize = 4096;

    /// <summary>Mappings at least this large ask for transparent huge pages when <see cref="UseHugePages"/> is on.</summary>
    public const nuint HugePageThreshold = 4 * 1024 * 1024;

    /// <summary>Whether large mappings are advised to use huge pages (see <see cref="NativeMapMemory.UseHugePages"/>).</summary>
    public static bool UseHugePages { get; set; }

    public static void* Map(nuint bytes)
    {
        void* p = mmap(null, bytes, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (p == (void*)-1 || p == null)
        {
            throw new OutOfMemoryException($"NativeMap could not map {bytes} bytes (errno {Marshal.GetLastPInvokeError()}).");
        }
        if (bytes >= HugePageThreshold && UseHugePages)
        {
            _ = madvise(p, bytes, MadvHugePage); // advisory: failure just means 4 KiB pages
        }
        return p;
    }

    /// <summary>Queues the unmapping of a block the maps no longer use.</summary>
    public static void Unmap(void* p, nuint bytes) => PageWorker.PostUnmap(p, bytes);

    /// <summary>
    /// Faults in the pages of [<paramref name="p"/>, <paramref name="p"/> + <paramref name="bytes"/>)
    /// for writing without changing a byte (madvise MADV_POPULATE_WRITE, Linux 5.14 and later), so it
    /// is safe while a map writes the same range. Returns 0, or the errno.
    /// </summary>
    internal static int PopulateNow(void* p, nuint bytes)
    {
        return madvise(p, bytes, MadvPopulateWrite) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>Unmaps a block now (on the page worker's thread).</summary>
    internal static void UnmapNow(void* p, nuint bytes)
    {
        if (munmap(p, bytes) != 0)
        {
            Environment.FailFast($"munmap of a NativeMap block failed (errno {Marshal.GetLastPInvokeError()}): the map's memory bookkeeping is corrupt.");
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial void* mmap(void* addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int munmap(void* addr, nuint length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int madvise(void* addr, nuint length, int advice);
}

/// <summary>
/// One background thread that unmaps released blocks in the order they were released, so that no
/// insert waits for munmap, and faults in the pages of a doubling's new array ahead of its
/// evacuation (<see cref="PostPopulate"/>), so that inserts do not wait for the kernel's page
/// allocation either. Zero managed allocation: a released block is queued by writing a header
/// into its own first bytes (the maps no longer use it) and pushing it on a lock-free stack; a
/// pre-fault job takes a slot of a fixed table.
/// </summary>
/// <remarks>
/// Measured at 10^7 long keys (per-insert latency, the insert that ends the last growth releases a
/// 160 MB array and 38 overflow chunks): unmapping at once, each block as it was released, the
/// worst insert took 3.3-4.4 ms in three runs, at a growth's end; the worker's munmap of a whole
/// block holds the process's memory-map lock while the writer maps or faults in new memory, and
/// queueing through a BlockingCollection grew a segment (a managed allocation) inside that insert.
/// Releasing a growth's blocks as one batch, unmapping at most <see cref="UnmapSlice"/> bytes per
/// call and pausing <see cref="PauseMs"/> between calls: 0.54-0.98 ms.
/// </remarks>
internal static unsafe class PageWorker
{
    /// <summary>Bytes unmapped per munmap call: bounds how long the memory-map lock is held.</summary>
    internal const nuint UnmapSlice = 4 * 1024 * 1024;

    /// <summary>Milliseconds the worker sleeps before each block and between slices, leaving the writer the lock.</summary>
    internal const int PauseMs = 1;

    private static readonly SemaphoreSlim s_signal = StartWorker();

    /// <summary>Released blocks not yet taken by the worker, newest first (a <see cref="BlockHeader"/> chain).</summary>
    private static nint s_released;
    private static long s_pendingUnmapBytes;

    [ThreadStatic]
    private static nint t_batchFirst;

    [ThreadStatic]
    private static nint t_batchLast;

    [ThreadStatic]
    private static int t_batchDepth;

    /// <summary>Written into the first bytes of a released block while it waits for the worker.</summary>
    private struct BlockHeader
    {
        public BlockHeader* Next;
        public nuint Bytes;
    }

    /// <summary>Bytes released by maps whose unmapping is still queued.</summary>
    public static long PendingUnmapBytes => Interlocked.Read(ref s_pendingUnmapBytes);

    /// <summary>Runs the static constructor (which starts the thread) if it has not run yet.</summary>
    public static void EnsureStarted() => _ = s_signal;

    /// <summary>Queues a block for unmapping (inside a <see cref="Batch"/>, when the batch ends). Preconditions: no map uses the block; at least 16 bytes.</summary>
    public static void PostUnmap(void* address, nuint bytes)
    {
        Interlocked.Add(ref s_pendingUnmapBytes, (long)bytes);
        var block = (BlockHeader*)address;
        block->Bytes = bytes;
        if (t_batchDepth > 0)
        {
            // Newest first, like the shared stack.
            block->Next = (BlockHeader*)t_batchFirst;
            t_batchFirst = (nint)block;
            if (t_batchLast == 0)
            {
                t_batchLast = (nint)block;
            }
            return;
        }
        Push(block, block);
        s_signal.Release();
    }

    /// <summary>Collects this thread's releases until the returned scope is disposed, then queues them together with one wake-up.</summary>
    public static BatchScope Batch()
    {
        t_batchDepth++;
        return default;
    }

    /// <summary>Ends a <see cref="Batch"/>.</summary>
    public readonly struct BatchScope : IDisposable
    {
        /// <summary>Queues the batch's releases, if this was the outermost batch.</summary>
        public void Dispose()
        {
            if (--t_batchDepth == 0 && t_batchFirst != 0)
            {
                Push((BlockHeader*)t_batchFirst, (BlockHeader*)t_batchLast);
                t_batchFirst = 0;
                t_batchLast = 0;
                s_signal.Release();
            }
        }
    }

    /// <summary>Pushes the chain <paramref name="first"/>..<paramref name="last"/> (linked by Next) on the shared stack.</summary>
    private static void Push(BlockHeader* first, BlockHeader* last)
    {
        while (true)
        {
            nint head = Volatile.Read(ref s_released);
            last->Next = (BlockHeader*)head;
            if (Interlocked.CompareExchange(ref s_released, (nint)first, head) == head)
            {
                return;
            }
        }
    }

    private static SemaphoreSlim StartWorker()
    {
        var signal = new SemaphoreSlim(0);
        var thread = new Thread(() =>
        {
            while (true)
            {
                // Sleep only when no array is waiting to be faulted in; otherwise just take a wake-up.
                if (!HasPopulateWork)
                {
                    signal.Wait();
                }
                else
                {
                    _ = signal.Wait(0);
                }
                UnmapReleased();
                PopulateNextSlice();
            }
        })
        {
            IsBackground = true,
            Name = "NativeMap page worker",
        };
        thread.Start();
        return signal;
    }

    /// <summary>
    /// Unmaps everything released so far, in release order. A block's pending pre-fault is dropped
    /// first: this thread is the only one that unmaps large blocks, so no pre-fault can reach a
    /// range after it was unmapped (and perhaps mapped again for someone else).
    /// </summary>
    private static void UnmapReleased()
    {
        // Take everything released so far and put it back in release order.
        var chain = (BlockHeader*)Interlocked.Exchange(ref s_released, 0);
        BlockHeader* ordered = null;
        while (chain != null)
        {
            BlockHeader* next = chain->Next;
            chain->Next = ordered;
            ordered = chain;
            chain = next;
        }
        for (BlockHeader* block = ordered; block != null; block = block->Next)
        {
            CancelPopulate((byte*)block, block->Bytes);
        }
        while (ordered != null)
        {
            BlockHeader* next = ordered->Next;
            nuint bytes = ordered->Bytes;
            Unmap((byte*)ordered, bytes);
            Interlocked.Add(ref s_pendingUnmapBytes, -(long)bytes);
            ordered = next;
        }
    }

    /// <summary>Unmaps a block slice by slice, pausing before each call.</summary>
    private static void Unmap(byte* address, nuint bytes)
    {
        for (nuint offset = 0; offset < bytes; offset += UnmapSlice)
        {
            Pause();
            LinuxPages.UnmapNow(address + offset, Math.Min(UnmapSlice, bytes - offset));
        }
    }

    /// <summary>
    /// The <see cref="PauseMs"/> before an unmap slice, which leaves the writers the memory-map lock.
    /// Spent pre-faulting when an array waits for it (a map growing while another is released: an
    /// index rebuilt next to the old one, a benchmark's next build): a doubling's evacuation would
    /// otherwise take its page faults itself while the releases went on.
    /// </summary>
    private static void Pause()
    {
        long end = Stopwatch.GetTimestamp() + Stopwatch.Frequency * PauseMs / 1000;
        while (HasPopulateWork && Stopwatch.GetTimestamp() < end)
        {
            PopulateNextSlice();
        }
        if (Stopwatch.GetTimestamp() < end)
        {
            Thread.Sleep(PauseMs);
        }
    }

    // ---- pre-faulting a doubling's new array -----------------------------------------------------

    /// <summary>Bytes pre-faulted per madvise call, per half: short enough that the writer's own
    /// mmap or munmap never waits long for the memory-map lock the call holds.</summary>
    internal const nuint PopulateSlice = 256 * 1024;

    /// <summary>Arrays waiting to be pre-faulted at once; a doubling beyond that is not pre-faulted.</summary>
    internal const int MaxPopulateJobs = 8;

    /// <summary>An array being faulted in: its two halves, <see cref="Done"/> bytes of each so far.</summary>
    private struct PopulateJob
    {
        public byte* Start;
        public nuint Half;
        public nuint Done;
    }

    private static readonly Lock s_jobsLock = new();
    private static readonly PopulateJob[] s_jobs = new PopulateJob[MaxPopulateJobs];
    private static int s_jobCount;
    private static volatile bool s_prefaultGrowth = true;
    private static volatile bool s_populateUnsupported;
    private static long s_populatedBytes;
    private static long s_cancelledJobs;
    private static long s_droppedJobs;

    /// <summary>Whether doublings pre-fault their new arrays (see <see cref="NativeMapMemory.PrefaultGrowth"/>).</summary>
    public static bool PrefaultGrowth
    {
        get => s_prefaultGrowth;
        set => s_prefaultGrowth = value;
    }

    /// <summary>Bytes faulted in so far by the worker (both halves of every job).</summary>
    internal static long PopulatedBytes => Interlocked.Read(ref s_populatedBytes);

    /// <summary>Pre-fault jobs dropped unfinished because their array was released.</summary>
    internal static long CancelledPopulateJobs => Interlocked.Read(ref s_cancelledJobs);

    /// <summary>Pre-fault requests refused because <see cref="MaxPopulateJobs"/> were waiting.</summary>
    internal static long DroppedPopulateJobs => Interlocked.Read(ref s_droppedJobs);

    /// <summary>Pre-fault jobs not finished yet.</summary>
    internal static int PendingPopulateJobs => Volatile.Read(ref s_jobCount);

    /// <summary>Whether the kernel refused MADV_POPULATE_WRITE (before Linux 5.14), which turns pre-faulting off.</summary>
    internal static bool PopulateUnsupported => s_populateUnsupported;

    private static bool HasPopulateWork => Volatile.Read(ref s_jobCount) != 0;

    /// <summary>
    /// Queues the pre-faulting of the array at <paramref name="start"/> (page-aligned, mapped by
    /// <see cref="LinuxPages.Map"/>): its first 2 * <paramref name="half"/> bytes, the two halves in
    /// step. Best effort: refused when <see cref="MaxPopulateJobs"/> are waiting. Called when a
    /// growth starts; takes a lock, allocates nothing.
    /// </summary>
    public static void PostPopulate(byte* start, nuint half)
    {
        if (s_populateUnsupported)
        {
            return;
        }
        lock (s_jobsLock)
        {
            if (s_jobCount == MaxPopulateJobs)
            {
                Interlocked.Increment(ref s_droppedJobs);
                return;
            }
            s_jobs[s_jobCount++] = new PopulateJob { Start = start, Half = half };
        }
        s_signal.Release();
    }

    /// <summary>
    /// Faults in the next slice of each half of the oldest job (on the worker's thread). The
    /// kernel's MADV_POPULATE_WRITE changes no byte, so the map may be writing the same pages.
    /// </summary>
    private static void PopulateNextSlice()
    {
        byte* low;
        nuint half, offset, length;
        lock (s_jobsLock)
        {
            if (s_jobCount == 0)
            {
                return;
            }
            ref PopulateJob job = ref s_jobs[0];
            low = job.Start;
            half = job.Half;
            offset = job.Done;
            length = Math.Min(PopulateSlice, half - offset);
            job.Done += length;
        }
        // Only this thread removes jobs (here, and CancelPopulate before it unmaps an array), so the
        // range is still mapped while the slice runs outside the lock, and the job is still first.
        int error = LinuxPages.PopulateNow(low + offset, length);
        if (error == 0)
        {
            // The upper half's slice starts on a page boundary at or below its first byte.
            byte* high = low + half + offset;
            byte* highPage = (byte*)((nuint)high & ~(LinuxPages.PageSize - 1));
            error = LinuxPages.PopulateNow(highPage, length + (nuint)(high - highPage));
        }
        if (error == 0)
        {
            Interlocked.Add(ref s_populatedBytes, 2 * (long)length);
        }
        if (offset + length == half)
        {
            // Finished (or its last slice failed): pending until now, so a waiter sees its bytes.
            lock (s_jobsLock)
            {
                RemoveJob(0);
            }
        }
        if (error == EInval)
        {
            // MADV_POPULATE_WRITE unknown to this kernel: stop asking.
            s_populateUnsupported = true;
            lock (s_jobsLock)
            {
                s_jobCount = 0;
            }
        }
        // Any other error (ENOMEM under memory pressure, EINTR) skips the slice: the map's own
        // writes will fault those pages in as they would have without this.
    }

    private const int EInval = 22;

    /// <summary>Drops every pending pre-fault inside the released block [<paramref name="block"/>, + <paramref name="bytes"/>).</summary>
    private static void CancelPopulate(byte* block, nuint bytes)
    {
        lock (s_jobsLock)
        {
            for (int i = s_jobCount - 1; i >= 0; i--)
            {
                byte* start = s_jobs[i].Start;
                if (start >= block && start < block + bytes)
                {
                    RemoveJob(i);
                    Interlocked.Increment(ref s_cancelledJobs);
                }
            }
        }
    }

    /// <summary>Removes job <paramref name="index"/>, keeping the others in order (lock held).</summary>
    private static void RemoveJob(int index)
    {
        for (int i = index + 1; i < s_jobCount; i++)
        {
            s_jobs[i - 1] = s_jobs[i];
        }
        s_jobCount--;
    }
}
