//! The `harness` command line.

fn main() {
    println!("harness: the comparison lands with the harness issue");
}
