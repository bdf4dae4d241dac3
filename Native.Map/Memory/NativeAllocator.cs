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
/// One background thread that unmaps released blocks in the order they were queued, so that no
/// insert waits for munmap.
/// </summary>
internal static unsafe class PageWorker
{
    private static readonly System.Collections.Concurrent.BlockingCollection<(nint Address, nuint Bytes)> s_queue = StartWorker();
    private static long s_pendingUnmapBytes;

    /// <summary>Bytes released by maps whose unmapping is still queued.</summary>
    public static long PendingUnmapBytes => Interlocked.Read(ref s_pendingUnmapBytes);

    public static void PostUnmap(void* address, nuint bytes)
    {
        Interlocked.Add(ref s_pendingUnmapBytes, (long)bytes);
        s_queue.Add(((nint)address, bytes));
    }

    private static System.Collections.Concurrent.BlockingCollection<(nint Address, nuint Bytes)> StartWorker()
    {
        var queue = new System.Collections.Concurrent.BlockingCollection<(nint Address, nuint Bytes)>();
        var thread = new Thread(() =>
        {
            foreach ((nint address, nuint bytes) in queue.GetConsumingEnumerable())
            {
                LinuxPages.UnmapNow((void*)address, bytes);
                Interlocked.Add(ref s_pendingUnmapBytes, -(long)bytes);
            }
        })
        {
            IsBackground = true,
            Name = "NativeMap page worker",
        };
        thread.Start();
        return queue;
    }
}
