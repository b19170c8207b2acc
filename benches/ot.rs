//! Benchmarks of the OT core (divan): transform, compose and apply of one keystroke, and
//! transform_position.

fn main() {
    divan::main();
}
