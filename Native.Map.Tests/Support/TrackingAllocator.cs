using System.Runtime.InteropServices;
using System.Text;
using Native.Map.Memory;

namespace Native.Map.Tests.Support;

/// <summary>
/// A <see cref="NativeAllocator"/> that checks the library's side of the allocator contract and can
/// inject failures. Every block is recorded; a free of an unknown pointer, a second free, a free with
/// a size other than the one allocated and a zero-byte allocation are recorded as violations (never
/// thrown from <see cref="Free"/>: a throw there could come from a finalizer and kill the process).
/// Blocks asked for without zeroing are filled with garbage, and freed blocks are poisoned, so code
/// that relies on either reads obviously wrong bytes.
/// </summary>
/// <remarks>
/// Fault injection: <see cref="FailAllocation"/>(n) makes the n-th allocation from now on throw
/// <see cref="OutOfMemoryException"/> without allocating; <see cref="BudgetBytes"/> makes every
/// allocation that would take the live total past the budget throw. No NUnit dependency: the stress
/// host compiles this file too.
/// </remarks>
internal sealed unsafe class TrackingAllocator : NativeAllocator
{
    /// <summary>Byte written into blocks allocated with zeroed: false.</summary>
    public const byte GarbageByte = 0xA5;

    /// <summary>Byte written over a block just before it is freed.</summary>
    public const byte PoisonByte = 0xDD;

    private readonly object _lock = new();
    private readonly NativeAllocator _inner;
    private readonly Dictionary<nint, nuint> _live = [];
    private readonly HashSet<nint> _freed = [];
    private readonly List<string> _violations = [];
    private long _failCountdown;

    /// <summary>Tracks blocks from <paramref name="inner"/> (the production allocator by default).</summary>
    public TrackingAllocator(NativeAllocator? inner = null) => _inner = inner ?? Default;

    /// <summary>Successful allocations so far.</summary>
    public long Allocations { get; private set; }

    /// <summary>Frees so far (violations included).</summary>
    public long Frees { get; private set; }

    /// <summary>Allocations refused by fault injection or the budget.</summary>
    public long InjectedFailures { get; private set; }

    /// <summary>Bytes allocated and not yet freed.</summary>
    public long LiveBytes { get; private set; }

    /// <summary>Largest <see cref="LiveBytes"/> seen.</summary>
    public long PeakBytes { get; private set; }

    /// <summary>Blocks allocated and not yet freed.</summary>
    public int LiveBlocks
    {
        get
        {
            lock (_lock)
            {
                return _live.Count;
            }
        }
    }

    /// <summary>When set, an allocation that would take <see cref="LiveBytes"/> past it throws OutOfMemoryException.</summary>
    public long? BudgetBytes { get; set; }

    /// <summary>Violations recorded so far.</summary>
    public IReadOnlyList<string> Violations
    {
        get
        {
            lock (_lock)
            {
                return [.. _violations];
            }
        }
    }

    /// <summary>Makes allocation number <paramref name="n"/> (1-based, counted from now) throw OutOfMemoryException.</summary>
    public void FailAllocation(long n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        lock (_lock)
        {
            _failCountdown = n;
        }
    }

    /// <summary>Cancels a pending <see cref="FailAllocation"/>.</summary>
    public void Disarm()
    {
        lock (_lock)
        {
            _failCountdown = 0;
        }
    }

    /// <summary>Whether a failure armed with <see cref="FailAllocation"/> has not fired yet.</summary>
    public bool Armed
    {
        get
        {
            lock (_lock)
            {
                return _failCountdown > 0;
            }
        }
    }

    public override void* Allocate(nuint bytes, bool zeroed)
    {
        lock (_lock)
        {
            if (bytes == 0)
            {
                _violations.Add("zero-byte allocation");
            }
            if (_failCountdown > 0 && --_failCountdown == 0)
            {
                InjectedFailures++;
                throw new OutOfMemoryException($"injected failure of allocation of {bytes} bytes");
            }
            if (BudgetBytes is long budget && LiveBytes + (long)bytes > budget)
            {
                InjectedFailures++;
                throw new OutOfMemoryException($"allocation of {bytes} bytes exceeds the test budget of {budget} bytes ({LiveBytes} live)");
            }
        }
        nuint size = bytes == 0 ? 1 : bytes;
        void* p = _inner.Allocate(size, zeroed);
        if (p == null)
        {
            throw new InvalidOperationException("inner allocator returned null");
        }
        nuint alignment = size >= 64 ? 64u : 16u;
        if (((nuint)p & (alignment - 1)) != 0)
        {
            lock (_lock)
            {
                _violations.Add($"inner allocator returned {(nint)p:X} for {size} bytes, not {alignment}-byte aligned");
            }
        }
        if (!zeroed)
        {
            NativeMemory.Fill(p, size, GarbageByte);
        }
        lock (_lock)
        {
            _live.Add((nint)p, bytes);
            _freed.Remove((nint)p);
            Allocations++;
            LiveBytes += (long)bytes;
            PeakBytes = Math.Max(PeakBytes, LiveBytes);
        }
        return p;
    }

    public override void Free(void* block, nuint bytes)
    {
        lock (_lock)
        {
            Frees++;
            if (block == null)
            {
                _violations.Add($"free of a null pointer ({bytes} bytes)");
                return;
            }
            if (!_live.TryGetValue((nint)block, out nuint size))
            {
                _violations.Add(_freed.Contains((nint)block)
                    ? $"double free of {(nint)block:X} ({bytes} bytes)"
                    : $"free of unknown pointer {(nint)block:X} ({bytes} bytes)");
                return;
            }
            if (size != bytes)
            {
                _violations.Add($"size mismatch freeing {(nint)block:X}: allocated {size} bytes, freed as {bytes}");
            }
            _live.Remove((nint)block);
            _freed.Add((nint)block);
            LiveBytes -= (long)size;
            NativeMemory.Fill(block, size == 0 ? 1 : size, PoisonByte);
            _inner.Free(block, size == 0 ? 1 : size);
        }
    }

    /// <summary>Throws when a violation was recorded.</summary>
    public void AssertNoViolations()
    {
        lock (_lock)
        {
            if (_violations.Count != 0)
            {
                throw new InvalidOperationException("allocator contract violated: " + string.Join("; ", _violations.Take(10)));
            }
        }
    }

    /// <summary>Throws when a violation was recorded or a block is still live.</summary>
    public void AssertClean()
    {
        AssertNoViolations();
        lock (_lock)
        {
            if (_live.Count != 0)
            {
                var sb = new StringBuilder($"{_live.Count} blocks ({LiveBytes} bytes) still live:");
                foreach (KeyValuePair<nint, nuint> kv in _live.Take(10))
                {
                    sb.Append($" {kv.Key:X}/{kv.Value}");
                }
                throw new InvalidOperationException(sb.ToString());
            }
        }
    }
}
