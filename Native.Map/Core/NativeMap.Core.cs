// This file holds the state of the map engine; the algorithms live in the other
// Core/NativeMap.*.cs files, one per Go function family.
//
// NativeMap is Go's runtime map (src/runtime/map.go, Go 1.19–1.23, map_noswiss.go in 1.24)
// on native memory.
//
// Terminology
//   bucket      8 key/value slots plus 8 tophash bytes and an overflow pointer (Go: bmap).
//   chain       a bucket and the overflow buckets hanging off it.
//   B           log2 of the number of buckets in the current array.
//   tophash     top byte of a key's hash, kept per slot (values below 5 are marks, see MapConstants).
//   old array   the previous bucket array while a growth is in progress.
//   evacuate    move the entries of one old chain into the new array.
//
// Layout (see Bucket.cs for offsets)
//   | tophash[8] | keys[8] | values[8] | overflow* |       144 bytes for <long, long>
//   The low B bits of the hash pick a bucket; the tophash byte filters slots before a key compare.
//   A bucket array holds 2^B buckets and, for B >= 4, 2^(B-4) preallocated overflow buckets at its
//   tail (Go's nextOverflow, with the sentinel on the last one). When those run out, overflow
//   buckets come from chunks (OverflowChunk) rather than one malloc each, so that dropping a table
//   costs a handful of frees.
//
// Lookup (Access.cs)
//   hash -> bucket; while growing, read the old bucket instead unless it is evacuated (known
//   without reading it below nevacuate); compare the 8 tophash bytes at once, then keys; follow
//   overflow; stop at a bucket containing emptyRest.
//
// Insert (Assign.cs)
//   hash the key and prefetch its bucket; take the writer flag; do growth work for the bucket
//   (GrowthWork: evacuate, or compact in place); find the key or the first free slot;
//   if the key is new and the map is over its load factor (count > 6.5 * 2^B) or has too many
//   overflow buckets (>= 2^min(B,15)), start a growth and retry; else take an overflow bucket if
//   the chain is full (preallocated ones first), write the key, count++.
//
// Delete (Delete.cs)
//   mark the slot emptyOne and clear it; if it ends the chain's live cells, walk back turning the
//   trailing run of emptyOne into emptyRest, across overflow buckets. Count 0 re-seeds the hash.
//
// Growth (Grow.cs)
//   Doubling splits each old bucket j into new buckets j (X) and j + 2^(B-1) (Y) by the new hash
//   bit; a same-size growth rewrites chains compactly to shed overflow buckets left by deletes
//   (in place when no enumerator is registered, see Compact.cs).
//   Both are incremental: every insert and delete evacuates the old bucket it is about to use and
//   one more (nevacuate, which skips buckets already done). The old array is released the moment
//   the last old bucket is evacuated. No call ever rehashes the whole table. Evacuation of a chain
//   is transactional: destinations are computed (user hash code may throw) and overflow buckets
//   reserved (allocation may fail) before anything moves.
//
// Iteration (Iterate.cs, NativeMap.Enumerator.cs)
//   MUST return every entry that is neither added nor removed during the iteration exactly once.
//   MUST NOT return an entry removed before the iterator reached it.
//   MAY return an entry added during the iteration.
//   MUST return the current value of an entry updated during the iteration.
//   Random start bucket and offset. Entries never move within a bucket, and evacuation leaves the
//   old chain intact with evacuatedX/Y marks, so an iterator keeps walking the array it started on
//   and looks evacuated keys up in the live table (Go's mapaccessK).
//   Go's garbage collector keeps that array alive; here the iterator registry pins it: a table an
//   iterator can still read is retired instead of freed, and freed when the last iterator moves off
//   it, finishes or is disposed. A stale copy of an indirect key pointer is scrubbed when the key is
//   deleted, so an iterator never follows a freed pointer.
//   The public struct enumerator holds only what its per-entry fast path reads (the cells left in
//   the current group of up to eight buckets, as one mask, and the version they are valid for);
//   the walk position lives in an IteratorState kept in the registry slot and reused, and the
//   struct calls out only to static methods that take its fields by value, so the JIT keeps it
//   in registers. Copies share that position: one left behind by another throws.
//
// Thread safety
//   Single writer. The writer flag is taken with a compare-and-swap: a second writer gets
//   InvalidOperationException("concurrent map writes") before it touches anything, so two racing
//   writers can never corrupt memory. Readers check the flag best-effort, as in Go. Concurrent
//   readers without a writer are safe.
//
// Deviations from Go
//   - Keys compare with IEquatable<TKey>.Equals (or the hasher's KeyEquals): NaN is one key, so the
//     NaN special cases of evacuate/mapiternext are gone.
//   - Concurrency violations throw catchable exceptions instead of killing the process.
//   - Memory is freed explicitly: the old array when evacuation ends (unless an iterator pins it),
//     everything on Dispose; a finalizer frees a forgotten map.
//   - Overflow buckets beyond the preallocated tail come from chunks, not one allocation each.
//   - Evacuation of a chain is transactional (see Growth), and a write hashes its key and prefetches
//     its bucket before taking the writer flag (rehashing if the seed changed meanwhile), so a
//     throwing hasher or a failed allocation leaves the map as it was.
//   - EnsureCapacity on a non-empty map schedules successive incremental doublings.
//   - A same-size growth with no enumerator registered compacts chains in place and recycles the
//     overflow buckets it frees (Compact.cs; Go's TODO), instead of evacuating into a second array:
//     constant-size churn then never holds more than twice the settled table (Go: about 3x).
//   - Large arrays are mapped from the OS (lazily zeroed pages; huge pages opt-in) and unmapped on a
//     background thread.
//   - While growing, lookups, evacuation and enumerators treat old buckets below nevacuate as
//     evacuated without reading them (UnevacuatedOldBucket; Go reads each one's first byte); the
//     answer is the same.
using System.Runtime.CompilerServices;
using Native.Map.Core;
using Native.Map.Hashing;
using Native.Map.Memory;
using static Native.Map.Core.MapConstants;

namespace Native.Map;

public unsafe partial class NativeMap<TKey, TValue, THasher>
{
    /// <summary>Go's hmap: count, flags, B, noverflow, hash0, buckets, oldbuckets, nevacuate, extra.</summary>
    private MapHeader _h;

    /// <summary>2^B - 1, kept beside <see cref="MapHeader.B"/> by <see cref="SetB"/> so that a lookup loads its bucket mask instead of computing it.</summary>
    private nuint _bucketMask;

    /// <summary>hash0 expanded to the 64-bit seed the hasher takes (a cache of <see cref="HashMix.ExpandSeed"/>(_h.Hash0)).</summary>
    private ulong _seed;

    private readonly NativeAllocator _allocator;

    /// <summary>Native bytes owned by this map; also added to <see cref="NativeMapMemory.LiveBytes"/>.</summary>
    private long _nativeBytes;

    /// <summary>Exact overflow buckets linked into the current array (noverflow is only approximate).</summary>
    private long _overflowCount;

    /// <summary>Exact overflow buckets linked into the old array.</summary>
    private long _oldOverflowCount;

    /// <summary>State of the xorshift generator for noverflow sampling (Go: fastrand).</summary>
    private uint _rng;

    /// <summary>
    /// Entries the current array holds before a doubling starts: Count + 1 above it is
    /// <see cref="OverMapLoadFactor"/> for the current B. Kept by <see cref="SyncGrowthLimits"/>.
    /// </summary>
    private long _growLimit = BucketCount;

    /// <summary>noverflow at which <see cref="TooManyOverflowBuckets"/> holds for the current B. Kept by <see cref="SyncGrowthLimits"/>.</summary>
    private ushort _overflowLimit = 1;

    /// <summary>B that EnsureCapacity asked for; growths keep doubling until B reaches it.</summary>
    private byte _targetB;

    /// <summary>
    /// Count below which an insert may take <see cref="AssignSlotFast"/> without testing a growth
    /// trigger: min(<see cref="_growLimit"/>, int.MaxValue) while no trigger other than the count can
    /// fire (noverflow below <see cref="_overflowLimit"/>, B at or above <see cref="_targetB"/>), else
    /// 0. One compare on the insert's path instead of four; kept by
    /// <see cref="SyncFastInsertLimit"/> wherever one of its inputs changes, and verified by
    /// <see cref="CheckInvariants"/>.
    /// </summary>
    private long _fastInsertLimit;

    /// <summary>
    /// Whether an insert touches its bucket's tophash word with a read-modify-write before reading
    /// it: on while the array was installed for a capacity (the constructor, EnsureCapacity on an
    /// empty map) and may still have pages nothing has touched. The kernel maps its shared zero page
    /// for a read of such a page, and the write that follows faults again to replace it (with a TLB
    /// flush); a read-modify-write faults once, as a write. Off from <see cref="_writeFirstUntil"/>
    /// entries on, by when inserts spread by the hash have touched every page (and updates of
    /// present keys, which it would make store to the tophash line, are no longer rare), and for
    /// arrays a doubling fills (its evacuation writes first).
    /// </summary>
    private bool _writeFirst;

    /// <summary>Whether inserts touch their bucket with a read-modify-write first (<see cref="_writeFirst"/>); for tests.</summary>
    internal bool WritesFirst => _writeFirst;

    /// <summary>
    /// Count from which <see cref="_writeFirst"/> is turned off: 16 entries per 4 KiB page of the
    /// array (a page untouched by then: e^-16); long.MaxValue while it is off, so that
    /// <see cref="_writeFirst"/> could be derived from it. It is kept as a field of its own because
    /// the insert tests it on every call: a byte compare instead of a 64-bit constant loaded into a
    /// register; <c>CheckInvariants</c> verifies the two agree. Part of <see cref="_fastInsertLimit"/>.
    /// </summary>
    private long _writeFirstUntil = long.MaxValue;

    /// <summary>
    /// Always 0: the operand of the write-first touch (<c>*(ulong*)b |= _zeroOperand</c>). A field, not
    /// a constant, so that the JIT emits one <c>or [b], reg</c> instruction, which the processor
    /// reports as a write on a page fault; C#'s <c>|= 0</c> would be dropped, and a load, or and store
    /// would fault as a read first.
    /// </summary>
    private readonly ulong _zeroOperand = 0UL;

    /// <summary>
    /// Makes this access the first to <paramref name="p"/>'s page a write without changing a bit
    /// (<c>or [p], 0</c>): on a page nothing has touched, a read would map the kernel's zero page and
    /// the write right after would fault again to replace it (see <see cref="_writeFirst"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void TouchForWrite(byte* p) => *(ulong*)p |= _zeroOperand;

    /// <summary>Test hook: keep hash0 fixed (no re-seeding), so crafted collisions stay collisions.</summary>
    private readonly bool _fixedSeed;

    /// <summary>Live enumerators and the tables they pin; null until the first enumeration.</summary>
    private IteratorRegistry? _iterators;

    /// <summary>
    /// Twice the load factor that triggers doubling: 13 (6.5) as in Go. Only the load-factor
    /// benchmark changes it, to reproduce Go's table for 4.0 to 8.0.
    /// </summary>
    private int _loadFactorTimes2 = LoadFactorNum;

    /// <summary>
    /// Bumped by every write and every enumerator release. An enumerator walking a bucket with a
    /// precomputed mask of live cells trusts the mask only while this is unchanged (Dictionary's
    /// _version plays the same part, to throw).
    /// </summary>
    internal int _version;

    private long _growthsStarted;
    private long _sameSizeGrowthsStarted;

    private static int BucketSize
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Bucket<TKey, TValue>.Size;
    }

    /// <summary>Shared constructor: validates, then allocates the bucket array when the hint needs B &gt; 0 (Go: makemap).</summary>
    internal NativeMap(int capacity, NativeAllocator? allocator, uint? fixedHash0)
    {
        if (capacity < 0)
        {
            GC.SuppressFinalize(this);
            ThrowHelper.ThrowCapacityOutOfRange(nameof(capacity), capacity);
        }
        byte b = BucketsLog2ForHint(capacity);
        if (b > MaxB || !ArrayBytesFit(b))
        {
            GC.SuppressFinalize(this);
            ThrowHelper.ThrowCapacityOutOfRange(nameof(capacity), capacity);
        }
        _allocator = allocator ?? NativeAllocator.Default;
        _fixedSeed = fixedHash0.HasValue;
        SetHash0(fixedHash0 ?? NewHash0());
        _rng = (uint)Random.Shared.Next() | 1;
        SetB(b);
        NativeMapMemory.MapCreated();
        if (b != 0)
        {
            try
            {
                InstallFreshArray(b);
            }
            catch
            {
                FreeAll();
                GC.SuppressFinalize(this);
                throw;
            }
        }
    }

    /// <summary>Frees the native memory of a map that was never disposed.</summary>
    ~NativeMap()
    {
        FreeAll();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nuint BucketShift(byte b) => (nuint)1 << b;

    /// <summary>2^b - 1. Go: bucketMask.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nuint BucketMask(byte b) => BucketShift(b) - 1;

    /// <summary>
    /// The only way Buckets and OldBuckets change: sets both and, from them, <see cref="PlainReads"/>,
    /// so the flag cannot fall out of step with the arrays. Called with the writer flag held (or
    /// before anyone else has the map).
    /// </summary>
    private void SetArrays(byte* buckets, byte* oldBuckets)
    {
        _h.Buckets = buckets;
        _h.OldBuckets = oldBuckets;
        if (buckets != null && oldBuckets == null)
        {
            _h.Flags |= PlainReads;
        }
        else
        {
            _h.Flags &= unchecked((byte)~PlainReads);
        }
    }

    /// <summary>Sets B and what is cached from it: the bucket mask and the two growth limits.</summary>
    private void SetB(byte b)
    {
        _h.B = b;
        _bucketMask = BucketMask(b);
        SyncGrowthLimits();
    }

    /// <summary>
    /// Recomputes <see cref="_growLimit"/> and <see cref="_overflowLimit"/> from B and the load factor,
    /// so that an insert tests its growth triggers with two compares instead of recomputing them.
    /// </summary>
    private void SyncGrowthLimits()
    {
        _growLimit = Math.Max(BucketCount, (long)_loadFactorTimes2 * (long)(BucketShift(_h.B) / 2));
        _overflowLimit = (ushort)(1 << Math.Min((int)_h.B, 15));
        SyncFastInsertLimit();
    }

    /// <summary>Recomputes <see cref="_fastInsertLimit"/> after a change to B, the load factor, noverflow or the capacity target.</summary>
    private void SyncFastInsertLimit() => _fastInsertLimit = FastInsertLimit();

    /// <summary>Sets noverflow (the only place that does) and the fast-insert limit, which depends on it.</summary>
    private void SetNOverflow(ushort n)
    {
        _h.NOverflow = n;
        SyncFastInsertLimit();
    }

    /// <summary>Sets the EnsureCapacity target (the only place that does) and the fast-insert limit, which depends on it.</summary>
    private void SetTargetB(byte b)
    {
        _targetB = b;
        SyncFastInsertLimit();
    }

    /// <summary>
    /// Turns <see cref="_writeFirst"/> on for an array of <paramref name="arrayBytes"/> just installed
    /// for a capacity (when the allocator says its pages start unmapped), or off; sets the
    /// fast-insert limit, which depends on it. The only place that sets either field.
    /// </summary>
    private void SetWriteFirst(bool on, nuint arrayBytes = 0)
    {
        _writeFirst = on && _allocator.PagesStartUnmapped(arrayBytes);
        _writeFirstUntil = _writeFirst ? (long)(arrayBytes / Memory.LinuxPages.PageSize) * 16 : long.MaxValue;
        SyncFastInsertLimit();
    }

    /// <summary>What <see cref="_fastInsertLimit"/> must be for the current state.</summary>
    private long FastInsertLimit() =>
        _h.B < _targetB || _h.NOverflow >= _overflowLimit ? 0 : Math.Min(Math.Min(_growLimit, int.MaxValue), _writeFirstUntil);

    /// <summary>The tophash byte of a hash, shifted above the reserved marks. Go: tophash.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte TopHash(ulong hash)
    {
        byte top = (byte)(hash >> 56);
        if (top < MinTopHash)
        {
            top += MinTopHash;
        }
        return top;
    }

    /// <summary>Whether <paramref name="count"/> items in 2^b buckets exceed the load factor 6.5. Go: overLoadFactor.</summary>
    internal static bool OverLoadFactor(long count, byte b) =>
        count > BucketCount && (ulong)count > LoadFactorNum * ((ulong)BucketShift(b) / LoadFactorDen);

    /// <summary>
    /// Whether noverflow buckets are too many for 2^b buckets: about as many overflow as regular
    /// buckets, which (since dense use would have doubled the map) means sparse chains left by
    /// deletes. Go: tooManyOverflowBuckets.
    /// </summary>
    internal static bool TooManyOverflowBuckets(ushort noverflow, byte b)
    {
        if (b > 15)
        {
            b = 15;
        }
        return noverflow >= (ushort)(1 << b);
    }

    /// <summary>OverLoadFactor with this map's load factor (6.5 unless a benchmark changed it).</summary>
    private bool OverMapLoadFactor(long count, byte b) =>
        count > BucketCount && (ulong)count > (ulong)_loadFactorTimes2 * ((ulong)BucketShift(b) / 2);

    /// <summary>Benchmark hook: the load factor at which this map doubles (Go's table explores 4.0 to 8.0).</summary>
    internal double MaxLoadFactor
    {
        get => _loadFactorTimes2 / 2.0;
        set
        {
            _loadFactorTimes2 = checked((int)Math.Round(value * 2));
            SyncGrowthLimits();
        }
    }

    /// <summary>Smallest B with hint &lt;= 6.5 * 2^B (and B = 0 for hint &lt;= 8). Go: makemap's loop.</summary>
    internal static byte BucketsLog2ForHint(long hint)
    {
        byte b = 0;
        while (OverLoadFactor(hint, b))
        {
            b++;
        }
        return b;
    }

    /// <summary>Entries 2^b buckets hold before growth starts.</summary>
    internal static long CapacityFor(byte b) => b == 0 ? BucketCount : LoadFactorNum * ((long)BucketShift(b) / LoadFactorDen);

    /// <summary>Whether we are in the middle of a growth. Go: growing.</summary>
    private bool Growing
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _h.OldBuckets != null;
    }

    /// <summary>Whether the current growth keeps the size. Go: sameSizeGrow.</summary>
    private bool IsSameSizeGrow => (_h.Flags & SameSizeGrow) != 0;

    /// <summary>B of the old array. Go derives it the same way in noldbuckets.</summary>
    private byte OldB => IsSameSizeGrow ? _h.B : (byte)(_h.B - 1);

    /// <summary>Number of buckets before the current growth. Go: noldbuckets.</summary>
    private nuint NOldBuckets => BucketShift(OldB);

    /// <summary>
    /// n % noldbuckets as a mask: the bucket mask, or half of it while doubling. Go: oldbucketmask.
    /// Only meaningful while <see cref="Growing"/>.
    /// </summary>
    private nuint OldBucketMask
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => IsSameSizeGrow ? _bucketMask : _bucketMask >> 1;
    }

    private static uint NewHash0() => (uint)Random.Shared.NextInt64();

    private void SetHash0(uint hash0)
    {
        _h.Hash0 = hash0;
        _seed = HashMix.ExpandSeed(hash0);
    }

    /// <summary>New hash seed, to make repeated crafted collisions harder (Go issue 25237).</summary>
    /// <remarks>Out of line: rare (Clear, a delete that empties the map), and inlined into every Remove caller it only costs code size.</remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Reseed()
    {
        if (!_fixedSeed)
        {
            SetHash0(NewHash0());
        }
    }

    private uint NextRandom()
    {
        uint x = _rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        _rng = x;
        return x;
    }

    /// <summary>
    /// Counts a new overflow bucket in noverflow: exactly while B &lt; 16, then with probability
    /// 1/2^(B-15), so that the 16-bit counter reaches 2^15 when there are about 2^B overflow buckets.
    /// Go: incrnoverflow.
    /// </summary>
    private void IncrNOverflow()
    {
        if (_h.B < 16)
        {
            if (_h.NOverflow != ushort.MaxValue)
            {
                SetNOverflow((ushort)(_h.NOverflow + 1));
            }
            return;
        }
        uint mask = (1u << (_h.B - 15)) - 1;
        if ((NextRandom() & mask) == 0 && _h.NOverflow != ushort.MaxValue)
        {
            SetNOverflow((ushort)(_h.NOverflow + 1));
        }
    }

    // ---- writer flag -------------------------------------------------------------------------

    /// <summary>Takes the writer flag or throws without having touched anything (Go: hashWriting, made exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AcquireWriter()
    {
        byte f = _h.Flags;
        if ((f & (HashWriting | Disposed)) != 0)
        {
            ThrowWriteRefused(f);
        }
        _ = AcquireWriter(f);
    }

    /// <summary>
    /// Takes the writer flag from the flags <paramref name="seen"/> before the key was hashed, which
    /// had neither the writer nor the disposed bit, and returns the flags it was taken from. One
    /// compare-and-swap: if anything changed Flags in between (the user's hash code writing to or
    /// disposing the map, another thread), it fails and the slow path decides, so nothing is loaded
    /// or tested twice on the common path. The caller must use the returned flags, not
    /// <paramref name="seen"/>: a write done from the hash code may have started or ended a growth.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte AcquireWriter(byte seen)
    {
        System.Diagnostics.Debug.Assert((seen & (HashWriting | Disposed)) == 0);
        byte taken = seen;
        if (Interlocked.CompareExchange(ref _h.Flags, (byte)(seen | HashWriting), seen) != seen)
        {
            taken = AcquireWriterSlow();
        }
        _version++;
        return taken;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowWriteRefused(byte f)
    {
        if ((f & Disposed) != 0)
        {
            ThrowHelper.ThrowDisposed(GetType());
        }
        ThrowHelper.ThrowConcurrentWrites();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private byte AcquireWriterSlow()
    {
        while (true)
        {
            byte f = Volatile.Read(ref _h.Flags);
            if ((f & Disposed) != 0)
            {
                ThrowHelper.ThrowDisposed(GetType());
            }
            if ((f & HashWriting) != 0)
            {
                ThrowHelper.ThrowConcurrentWrites();
            }
            if (Interlocked.CompareExchange(ref _h.Flags, (byte)(f | HashWriting), f) == f)
            {
                return f;
            }
        }
    }

    /// <summary>
    /// Drops the writer flag. While it is held nobody else changes Flags (Dispose refuses to run
    /// during a write), so a plain release store is enough.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ReleaseWriter() => Volatile.Write(ref _h.Flags, (byte)(_h.Flags & ~HashWriting));

    /// <summary>Best-effort reader check, as in Go, plus use-after-dispose.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckRead()
    {
        byte f = _h.Flags;
        if ((f & (HashWriting | Disposed)) != 0)
        {
            ThrowReadConflict(f);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowReadConflict(byte f)
    {
        if ((f & Disposed) != 0)
        {
            ThrowHelper.ThrowDisposed(GetType());
        }
        ThrowHelper.ThrowConcurrentReadWrite();
    }

    // ---- reads that run the user's code ----------------------------------------------------------

    /// <summary>
    /// The version a read compares against after each call into the key's hash or equality code
    /// (<see cref="CheckUnchangedSince"/>); read before the first call. Zero, and no load, for a
    /// hasher that runs no user code (<see cref="IKeyHasher{TKey}.CanThrow"/> false).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int ReadVersion() => THasher.CanThrow ? _version : 0;

    /// <summary>
    /// Called by a read right after the key's hash or equality code returns, before it uses anything
    /// it loaded earlier (the bucket array, the seed, a bucket of the chain): throws if the map
    /// changed since <paramref name="version"/>. That code may dispose the map (its arrays are
    /// freed), start or finish a growth, or clear it (a new seed); every write and Dispose bumps the
    /// version. Writes need no such check: they hold the writer flag while they compare keys, and
    /// take it by a compare-and-swap from the flags seen before hashing. Nothing for hashers that run
    /// no user code.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckUnchangedSince(int version)
    {
        if (THasher.CanThrow && _version != version)
        {
            ThrowChangedDuringRead();
        }
    }

    /// <summary>
    /// The enumerator's hash of a stored key under the current seed, then a check that the key's code
    /// did not dispose the map: writes are allowed during an enumeration (its arrays stay pinned),
    /// Dispose is not, since it frees them. Nothing to check for hashers that run no user code.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong HashForEnumeration(in TKey key)
    {
        ulong hash = THasher.Hash(in key, _seed);
        if (THasher.CanThrow && (_h.Flags & Disposed) != 0)
        {
            ThrowHelper.ThrowDisposed(GetType());
        }
        return hash;
    }

    /// <summary>
    /// A read's hash of <paramref name="key"/> under <paramref name="seed"/>, then
    /// <see cref="CheckUnchangedSince"/>: the one way reads hash a key (but TryGetValues' pipeline,
    /// whose stage-1 local function checks in its loop, and the enumerator, which allows writes:
    /// <see cref="HashForEnumeration"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong HashForRead(in TKey key, ulong seed, int version)
    {
        ulong hash = THasher.Hash(in key, seed);
        CheckUnchangedSince(version);
        return hash;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowChangedDuringRead()
    {
        if ((_h.Flags & Disposed) != 0)
        {
            ThrowHelper.ThrowDisposed(GetType());
        }
        ThrowHelper.ThrowChangedDuringRead();
    }
}
