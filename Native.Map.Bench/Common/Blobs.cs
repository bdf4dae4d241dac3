using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Native.Map.Bench.Common;

/// <summary>
/// A fixed-size struct used as both key and value in the size sweep: an 8-byte id followed by zero
/// padding up to the struct's size. Equality compares every byte (a key compare reads the whole
/// key, as it would for a real composite key); the hash is taken from the id, which determines the
/// other bytes, so it agrees with equality.
/// </summary>
/// <typeparam name="TSelf">The implementing struct.</typeparam>
public interface IBlob<TSelf> : IEquatable<TSelf>
    where TSelf : unmanaged, IBlob<TSelf>
{
    /// <summary>The blob whose id is <paramref name="id"/>.</summary>
    static abstract TSelf Create(long id);

    /// <summary>The id it was created from.</summary>
    long Id { get; }
}

/// <summary>Byte-wise equality and an id-based hash shared by the blob structs.</summary>
internal static class Blob
{
    public static bool BytesEqual<T>(in T x, in T y)
        where T : unmanaged =>
        MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in x)).SequenceEqual(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in y)));

    public static int Hash(long id) => (int)id ^ (int)(id >> 32);

    public static T Create<T>(long id)
        where T : unmanaged
    {
        T blob = default;
        Unsafe.As<T, long>(ref blob) = id;
        return blob;
    }
}

// One struct per size. Pack = 1 keeps the size exact: with 8-byte alignment a Size of 129 would be
// rounded up to 136, and 129 is the point of the exercise (over the 128-byte limit, so NativeMap
// stores it indirectly, as Go does).

/// <summary>8-byte key/value.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = 8)]
public readonly struct Blob8 : IBlob<Blob8>
{
    private readonly long _id;

    /// <inheritdoc/>
    public long Id => _id;

    /// <inheritdoc/>
    public static Blob8 Create(long id) => Blob.Create<Blob8>(id);

    /// <inheritdoc/>
    public bool Equals(Blob8 other) => Blob.BytesEqual(in this, in other);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Blob8 other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Blob.Hash(_id);
}

/// <summary>16-byte key/value.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = 16)]
public readonly struct Blob16 : IBlob<Blob16>
{
    private readonly long _id;

    /// <inheritdoc/>
    public long Id => _id;

    /// <inheritdoc/>
    public static Blob16 Create(long id) => Blob.Create<Blob16>(id);

    /// <inheritdoc/>
    public bool Equals(Blob16 other) => Blob.BytesEqual(in this, in other);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Blob16 other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Blob.Hash(_id);
}

/// <summary>32-byte key/value.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = 32)]
public readonly struct Blob32 : IBlob<Blob32>
{
    private readonly long _id;

    /// <inheritdoc/>
    public long Id => _id;

    /// <inheritdoc/>
    public static Blob32 Create(long id) => Blob.Create<Blob32>(id);

    /// <inheritdoc/>
    public bool Equals(Blob32 other) => Blob.BytesEqual(in this, in other);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Blob32 other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Blob.Hash(_id);
}

/// <summary>64-byte key/value (one cache line).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = 64)]
public readonly struct Blob64 : IBlob<Blob64>
{
    private readonly long _id;

    /// <inheritdoc/>
    public long Id => _id;

    /// <inheritdoc/>
    public static Blob64 Create(long id) => Blob.Create<Blob64>(id);

    /// <inheritdoc/>
    public bool Equals(Blob64 other) => Blob.BytesEqual(in this, in other);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Blob64 other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Blob.Hash(_id);
}

/// <summary>128-byte key/value: the largest stored inline in a bucket.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = 128)]
public readonly struct Blob128 : IBlob<Blob128>
{
    private readonly long _id;

    /// <inheritdoc/>
    public long Id => _id;

    /// <inheritdoc/>
    public static Blob128 Create(long id) => Blob.Create<Blob128>(id);

    /// <inheritdoc/>
    public bool Equals(Blob128 other) => Blob.BytesEqual(in this, in other);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Blob128 other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Blob.Hash(_id);
}

/// <summary>129-byte key/value: one byte over the limit, so NativeMap stores key and value indirectly.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = 129)]
public readonly struct Blob129 : IBlob<Blob129>
{
    private readonly long _id;

    /// <inheritdoc/>
    public long Id => _id;

    /// <inheritdoc/>
    public static Blob129 Create(long id) => Blob.Create<Blob129>(id);

    /// <inheritdoc/>
    public bool Equals(Blob129 other) => Blob.BytesEqual(in this, in other);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Blob129 other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Blob.Hash(_id);
}
