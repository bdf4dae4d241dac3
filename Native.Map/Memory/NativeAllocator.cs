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

    public override void* Allocate(nuint bytes, bool zeroed)
    {
        if (bytes >= LargeBlock && OperatingSystem.IsLinux())
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
        if (bytes >= LargeBlock && OperatingSystem.IsLinux())
        {
            LinuxPages.Unmap(block, bytes);
            return;
        }
        NativeMemory.AlignedFree(block);
    }
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
/// insert waits for munmap. Zero managed allocation: a released block is queued by writing a header
/// into its own first bytes (the maps no longer use it) and pushing it on a lock-free stack.
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
                signal.Wait();
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
                while (ordered != null)
                {
                    BlockHeader* next = ordered->Next;
                    nuint bytes = ordered->Bytes;
                    Unmap((byte*)ordered, bytes);
                    Interlocked.Add(ref s_pendingUnmapBytes, -(long)bytes);
                    ordered = next;
                }
            }
        })
        {
            IsBackground = true,
            Name = "NativeMap page worker",
        };
        thread.Start();
        return signal;
    }

    /// <summary>Unmaps a block slice by slice, pausing before each call.</summary>
    private static void Unmap(byte* address, nuint bytes)
    {
        for (nuint offset = 0; offset < bytes; offset += UnmapSlice)
        {
            Thread.Sleep(PauseMs);
            LinuxPages.UnmapNow(address + offset, Math.Min(UnmapSlice, bytes - offset));
        }
    }
}
