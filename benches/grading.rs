fn main() {
    let e = dataready::embed::Embedder::load(&dataready::paths::embedder_dir()).unwrap();
    let ans = "So a shuffle is when Spark has to move data between executors, because a wide transformation like a group by or a join needs all rows with the same key in the same partition. It writes shuffle files to local disk on the map side and the reducers fetch them over the network, which is why it is expensive. In my last project we had a join that spilled a lot, and we fixed it by broadcasting the small table and turning on adaptive query execution.";
    println!("tokens {}", e.token_count(ans));
    for _ in 0..3 {
        let t = std::time::Instant::now();
        e.embed_one(ans);
        println!("one answer {:?}", t.elapsed());
    }
    let short: Vec<String> = (0..2000)
        .map(|i| format!("Key point number {i} about partitions and shuffles in distributed joins."))
        .collect();
    let refs: Vec<&str> = short.iter().map(|s| s.as_str()).collect();
    let t = std::time::Instant::now();
    e.embed(&refs);
    println!("2000 short {:?}", t.elapsed());
}
