//! Reals carried exactly through JSON: the engine's own arithmetic turns
//! a REAL into integers (multiplying by powers of two is exact), never its
//! decimal printing, which differs between engine builds.

/// The tables `real_sql` reads: exact powers of two, 2^(62n) and 2^(-62n)
/// for n = 0…9, made by multiplying exact numbers (2^62 is an integer the
/// engine reads exactly); and per bucket b = -18…16 its lower threshold t,
/// a little above 2^(62b) (what the engine makes of the decimal does not
/// matter), and the two exact factors that scale 2^(62b) to 1.
pub(super) static POWERS: std::sync::LazyLock<String> = std::sync::LazyLock::new(powers_cte);

fn powers_cte() -> String {
    let mut buckets = vec!["(-18, 0.0)".to_owned()];
    for b in -17..=16 {
        buckets.push(format!("({b}, {:e})", ldexp(1.0001, 62 * b)));
    }
    format!(
        "WITH RECURSIVE p(n, up, down) AS (SELECT 0, 1.0, 1.0 UNION ALL \
         SELECT n + 1, up * 4611686018427387904.0, down / 4611686018427387904.0 FROM p WHERE n < 9), \
         q(b, t, f1, f2) AS (SELECT column1, column2, \
         (SELECT CASE WHEN column1 >= 0 THEN down ELSE up END FROM p WHERE n = abs(column1) / 2), \
         (SELECT CASE WHEN column1 >= 0 THEN down ELSE up END FROM p WHERE n = abs(column1) - abs(column1) / 2) \
         FROM (VALUES {})) ",
        buckets.join(", ")
    )
}

/// A REAL `c` as exact integers, by arithmetic the engine does exactly
/// (multiplying by powers of two, truncating a number whose fraction has at
/// most 52 bits): `["f", b, i, f]` is `(i + f / 2^52) * 2^(62 b)`, the sign
/// on `i`; `["z"]` a zero (the engine shows no sign of zero); `["i", 1]`
/// minus infinity, `["i", 0]` plus. The bucket b is the one whose
/// threshold (`powers_cte`) is the last below `|c|`, so `|c|` scaled by
/// 2^(-62 b) lands in [1, 2^62 * 1.0001).
pub(super) fn real_sql(c: &str) -> String {
    format!(
        "CASE WHEN {c} = 0 THEN json_array('z') \
         WHEN abs({c}) > 1.7976931348623157e308 THEN json_array('i', {c} < 0) \
         ELSE (SELECT json_array('f', b, CASE WHEN {c} < 0 THEN -CAST(a AS INTEGER) ELSE CAST(a AS INTEGER) END, \
         CAST((a - CAST(a AS INTEGER)) * 4503599627370496.0 AS INTEGER)) \
         FROM (SELECT b, abs({c}) * f1 * f2 AS a FROM q WHERE abs({c}) >= t ORDER BY t DESC LIMIT 1)) END"
    )
}

/// 2^e for a normal exponent, exactly.
pub(super) fn pow2(e: i32) -> f64 {
    debug_assert!((-1022..=1023).contains(&e));
    f64::from_bits(((e + 1023) as u64) << 52)
}

/// `m * 2^e`, exactly when the result is a double (it is: the server's).
pub(super) fn ldexp(m: f64, e: i64) -> f64 {
    let mut x = m;
    let mut e = e;
    // Steps that keep every intermediate normal; only the last may round,
    // and its exact result is representable.
    while e > 1000 {
        x *= pow2(1000);
        e -= 1000;
    }
    while e < -1000 {
        x *= pow2(-1000);
        e += 1000;
    }
    x * pow2(e as i32)
}
