//! The `tallyboard` command.
fn main() {
    println!("tallyboard");
}
