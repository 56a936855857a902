//! The figures players feel, measured on the release binary against a fake ballchasing on
//! loopback: save→upload latency, pacing against a server that limits uploads, the idle
//! footprint, and start-up at 20,000 replays. Memory and CPU come from /proc (Linux).
//!
//! `cargo bench --bench figures` runs them all (about four minutes); `-- latency pacing`
//! runs some. Results are printed as Markdown rows for BENCHMARKS.md.

#[path = "../tests/support/mod.rs"]
mod support;

fn main() {
    #[cfg(target_os = "linux")]
    linux::main();
    #[cfg(not(target_os = "linux"))]
    eprintln!("the figures read /proc and run on Linux only");
}

#[cfg(target_os = "linux")]
mod linux {
    use std::os::unix::net::UnixDatagram;
    use std::path::{Path, PathBuf};
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    use super::support::ballchasing::{Answer, FakeBallchasing, Faults, TOKEN};
    use super::support::bin::{Daemon, command, write_config};
    use super::support::replays::{LAN, TINY, distinct};

    pub fn main() {
        let wanted: Vec<String> = std::env::args()
            .skip(1)
            .filter(|a| !a.starts_with("--"))
            .collect();
        let run =
            |name: &str| wanted.is_empty() || wanted.iter().any(|w| name.contains(w.as_str()));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        println!("| figure | measured | target |\n|---|---|---|");
        rt.block_on(async {
            if run("latency") {
                latency().await;
            }
            if run("pacing") {
                pacing().await;
            }
            if run("idle") {
                idle().await;
            }
            if run("scale") {
                scale().await;
            }
            if run("real-first-start") {
                real_first_start().await;
            }
            if run("real-backfill") {
                real_backfill().await;
            }
            if run("real-oneshot") {
                real_oneshot().await;
            }
        });
    }

    /// A folder of replays, a state folder and a config, in a temp dir.
    struct Work {
        root: tempfile::TempDir,
        demos: PathBuf,
        config: PathBuf,
        notify: PathBuf,
    }

    impl Work {
        fn new(fake: &FakeBallchasing, extra: &str) -> Work {
            let root = tempfile::tempdir().unwrap();
            let demos = root.path().join("Demos");
            std::fs::create_dir(&demos).unwrap();
            let config = root.path().join("config.toml");
            write_config(&config, &fake.server.url(), TOKEN, extra);
            let notify = root.path().join("notify.sock");
            Work {
                root,
                demos,
                config,
                notify,
            }
        }

        fn state(&self) -> PathBuf {
            self.root.path().join("state/state.jsonl")
        }

        /// Starts the daemon; returns it and how long it took to tell systemd it is ready.
        fn start(&self) -> (Daemon, Duration) {
            let _ = std::fs::remove_file(&self.notify);
            let socket = UnixDatagram::bind(&self.notify).unwrap();
            socket
                .set_read_timeout(Some(Duration::from_secs(120)))
                .unwrap();
            let started = Instant::now();
            let daemon = Daemon::spawn(
                command(&self.config)
                    .arg("run")
                    .env("NOTIFY_SOCKET", &self.notify)
                    .stderr(Stdio::null()),
            );
            let mut buf = [0u8; 256];
            loop {
                let n = socket.recv(&mut buf).expect("READY=1 within 2 minutes");
                if buf[..n].starts_with(b"READY=1") {
                    return (daemon, started.elapsed());
                }
            }
        }

        /// `n` distinct small replays, uploaded already as far as the state knows: a first start
        /// records them (as present before first start), then the records are marked uploaded.
        async fn with_uploaded(&self, n: u32) {
            for i in 0..n {
                std::fs::write(self.demos.join(format!("{i:05}.replay")), distinct(TINY, i))
                    .unwrap();
            }
            let (daemon, _) = self.start();
            let deadline = Instant::now() + Duration::from_secs(300);
            // Every old replay recorded, and the folder's baseline marked done.
            while state_records(&self.state()) < n as usize || !self.baseline_done() {
                assert!(Instant::now() < deadline, "first start did not record {n}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            daemon.signal("TERM");
            let _ = daemon.output().await;
            let text = std::fs::read_to_string(self.state()).unwrap();
            std::fs::write(
                self.state(),
                text.replace("\"status\":\"skipped\"", "\"status\":\"uploaded\""),
            )
            .unwrap();
        }
    }

    impl Work {
        fn baseline_done(&self) -> bool {
            autochase::state::State::read(&self.state())
                .ok()
                .flatten()
                .is_some_and(|(s, _)| !s.folders.is_empty())
        }
    }

    fn state_records(path: &Path) -> usize {
        autochase::state::State::read(path)
            .ok()
            .flatten()
            .map_or(0, |(s, _)| s.replays.len())
    }

    fn row(figure: &str, measured: String, target: &str) {
        println!("| {figure} | {measured} | {target} |");
    }

    fn percentile(sorted: &[Duration], p: f64) -> Duration {
        sorted[((sorted.len() - 1) as f64 * p).round() as usize]
    }

    fn ms(d: Duration) -> String {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    }

    async fn uploads_seen(fake: &FakeBallchasing, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while fake.upload_requests() < n {
            assert!(Instant::now() < deadline, "upload {n} never came");
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }

    /// 50 replays of 1 MB written in 64 KiB chunks; close() to the upload request's arrival.
    async fn latency() {
        let fake = FakeBallchasing::start().await;
        let work = Work::new(&fake, "");
        let (_daemon, _) = work.start();
        let mut latencies = Vec::new();
        for i in 0..50u32 {
            let bytes = distinct(LAN, i);
            let path = work.demos.join(format!("L{i:02}.replay"));
            let closed = tokio::task::spawn_blocking(move || {
                use std::io::Write;
                let mut file = std::fs::File::create(&path).unwrap();
                for chunk in bytes.chunks(64 * 1024) {
                    file.write_all(chunk).unwrap();
                    // The game writes in bursts; a short pause lets the watcher see partial files.
                    std::thread::sleep(Duration::from_millis(2));
                }
                drop(file);
                Instant::now()
            })
            .await
            .unwrap();
            uploads_seen(&fake, i as usize + 1).await;
            let arrived = fake
                .server
                .requests()
                .into_iter()
                .filter(|r| r.path == "/v2/upload")
                .nth(i as usize)
                .unwrap()
                .at
                .into_std();
            latencies.push(arrived.saturating_duration_since(closed));
            // Stay under the configured pace, so pacing does not count as latency.
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        latencies.sort();
        row(
            "save→upload latency, 50 × 1 MB in 64 KiB chunks",
            format!(
                "p50 {}, p90 {}, max {}",
                ms(percentile(&latencies, 0.5)),
                ms(percentile(&latencies, 0.9)),
                ms(*latencies.last().unwrap())
            ),
            "p50 ≤ 100 ms, max ≤ 500 ms",
        );
    }

    /// 200 queued replays; the server allows R uploads a second and answers 429 beyond.
    async fn pacing() {
        let rate = 10usize;
        let fake = FakeBallchasing::with_faults(Faults {
            per_second: Some(rate),
            ..Faults::default()
        })
        .await;
        let work = Work::new(&fake, "backfill = true\n");
        for i in 0..200u32 {
            std::fs::write(
                work.demos.join(format!("P{i:03}.replay")),
                distinct(TINY, i),
            )
            .unwrap();
        }
        let (_daemon, _) = work.start();
        let deadline = Instant::now() + Duration::from_secs(120);
        while fake.created() < 200 {
            assert!(Instant::now() < deadline, "200 uploads within 2 minutes");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let books = fake.books.lock().unwrap();
        let first = books.answers.first().unwrap().1;
        let last = books
            .answers
            .iter()
            .rfind(|(a, _)| *a == Answer::Created)
            .unwrap()
            .1;
        let drain = last - first;
        let ideal = Duration::from_secs_f64(199.0 / rate as f64);
        row(
            &format!("pacing, 200 uploads, server limit {rate}/s, upload_rate = {rate}"),
            format!(
                "drain {:.2} s = {:.3} × ideal {:.1} s, {} × 429",
                drain.as_secs_f64(),
                drain.as_secs_f64() / ideal.as_secs_f64(),
                ideal.as_secs_f64(),
                books.count(Answer::RateLimited)
            ),
            "≤ 1.05 × ideal, zero 429s",
        );
    }

    /// One process's figures from /proc: resident and peak memory (KiB), CPU (ns) and context
    /// switches summed over its threads, and bytes it read (`rchar`: every read call).
    struct Proc {
        rss_kib: u64,
        hwm_kib: u64,
        cpu_ns: u64,
        switches: u64,
        read_bytes: u64,
    }

    fn proc_figures(pid: u32) -> Proc {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let field = |text: &str, key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let (mut cpu_ns, mut switches) = (0, 0);
        for task in std::fs::read_dir(format!("/proc/{pid}/task"))
            .unwrap()
            .flatten()
        {
            let sched = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
            cpu_ns += sched
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
            let task_status =
                std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
            switches += field(&task_status, "voluntary_ctxt_switches:")
                + field(&task_status, "nonvoluntary_ctxt_switches:");
        }
        let io = std::fs::read_to_string(format!("/proc/{pid}/io")).unwrap_or_default();
        Proc {
            rss_kib: field(&status, "VmRSS:"),
            hwm_kib: field(&status, "VmHWM:"),
            cpu_ns,
            switches,
            read_bytes: field(&io, "rchar:"),
        }
    }

    fn mib(kib: u64) -> String {
        format!("{:.1} MiB", kib as f64 / 1024.0)
    }

    /// Watching 1,000 uploaded replays for 60 s with nothing to do.
    async fn idle() {
        let fake = FakeBallchasing::start().await;
        let work = Work::new(&fake, "");
        work.with_uploaded(1000).await;
        let before = fake.upload_requests();
        let (daemon, _) = work.start();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let start = proc_figures(daemon.id());
        tokio::time::sleep(Duration::from_secs(60)).await;
        let end = proc_figures(daemon.id());
        row(
            "idle, 1,000 uploaded replays, 60 s",
            format!(
                "RSS {} (peak {}), CPU {:.4} s/min, {} context switches/min, {} requests",
                mib(end.rss_kib),
                mib(end.hwm_kib),
                (end.cpu_ns - start.cpu_ns) as f64 / 1e9,
                end.switches - start.switches,
                fake.upload_requests() - before
            ),
            "RSS ≤ 10 MiB, CPU ≤ 0.01 s/min, no busy polling",
        );
    }

    /// 20,000 replay files and a state of 20,000 records: restart to ready, three times.
    async fn scale() {
        let fake = FakeBallchasing::start().await;
        let work = Work::new(&fake, "");
        let first = Instant::now();
        work.with_uploaded(20_000).await;
        let first = first.elapsed();
        let before = fake.upload_requests();
        let mut readies = Vec::new();
        let mut peak = 0;
        for _ in 0..3 {
            let (mut daemon, ready) = work.start();
            readies.push(ready);
            tokio::time::sleep(Duration::from_millis(500)).await;
            peak = peak.max(proc_figures(daemon.id()).hwm_kib);
            daemon.kill();
        }
        readies.sort();
        row(
            "scale, 20,000 files and records: start to ready (median of 3)",
            format!(
                "{} (runs {}), peak RSS {}, {} requests; the very first start, reading every file: {:.1} s",
                ms(readies[1]),
                readies
                    .iter()
                    .map(|d| ms(*d))
                    .collect::<Vec<_>>()
                    .join(", "),
                mib(peak),
                fake.upload_requests() - before,
                first.as_secs_f64()
            ),
            "≤ 0.5 s, RSS ≤ 30 MiB, zero requests",
        );
    }

    /// `n` real-size replays (1 MB, each its own header Id) in the demos folder.
    fn real_size(work: &Work, n: u32, prefix: &str) -> u64 {
        let mut total = 0;
        for i in 0..n {
            let bytes = distinct(LAN, 100_000 + i);
            total += bytes.len() as u64;
            std::fs::write(work.demos.join(format!("{prefix}{i:05}.replay")), bytes).unwrap();
        }
        total
    }

    fn mb(bytes: u64) -> String {
        format!("{:.1} MB", bytes as f64 / 1e6)
    }

    /// The first start over 2,000 real-size replays (2 GB): peak memory, bytes read, and the
    /// time until their baseline is recorded (the files were just written: a warm cache).
    async fn real_first_start() {
        let fake = FakeBallchasing::start().await;
        let work = Work::new(&fake, "");
        let n = 2000;
        let total = real_size(&work, n, "F");
        let (daemon, ready) = work.start();
        let started = Instant::now() - ready;
        let mut last = proc_figures(daemon.id());
        while !work.baseline_done() {
            assert!(
                started.elapsed() < Duration::from_secs(300),
                "baseline within 5 minutes"
            );
            last = proc_figures(daemon.id());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let took = started.elapsed();
        let end = proc_figures(daemon.id());
        let read = end.read_bytes.max(last.read_bytes);
        row(
            &format!(
                "real size: first start over {n} replays of 1 MB ({})",
                mb(total)
            ),
            format!(
                "peak RSS {}, read {} ({:.2} % of the folder), baseline done in {:.2} s, {} requests",
                mib(end.hwm_kib),
                mb(read),
                read as f64 * 100.0 / total as f64,
                took.as_secs_f64(),
                fake.upload_requests()
            ),
            "peak ≤ 20 MiB, read ≤ 5 %, ≤ 2 s (warm cache)",
        );
        let mut daemon = daemon;
        daemon.kill();
        // A restart over those records.
        let (mut again, ready) = work.start();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let figures = proc_figures(again.id());
        row(
            &format!("real size: restart over {n} records"),
            format!(
                "ready in {}, RSS {} (peak {}), read {}",
                ms(ready),
                mib(figures.rss_kib),
                mib(figures.hwm_kib),
                mb(figures.read_bytes)
            ),
            "keep: about 10 MiB, fast",
        );
        again.kill();
    }

    /// A backfill of 200 real-size replays to a local server at `upload_rate = 10`: peak
    /// memory during it, and memory a minute after the work ends.
    async fn real_backfill() {
        let fake = FakeBallchasing::start().await;
        let work = Work::new(&fake, "backfill = true\n");
        let n = 200;
        real_size(&work, n, "B");
        let (daemon, _) = work.start();
        let started = Instant::now();
        while fake.created() < n as usize {
            assert!(
                started.elapsed() < Duration::from_secs(300),
                "{n} uploads within 5 minutes"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let took = started.elapsed();
        let during = proc_figures(daemon.id());
        tokio::time::sleep(Duration::from_secs(60)).await;
        let after = proc_figures(daemon.id());
        row(
            &format!("real size: backfill of {n} replays of 1 MB, upload_rate = 10"),
            format!(
                "peak RSS {}, RSS {} a minute after the work, {:.1} s",
                mib(during.hwm_kib),
                mib(after.rss_kib),
                took.as_secs_f64()
            ),
            "peak ≤ 20 MiB; ≤ 10 MiB a minute after",
        );
    }

    /// Peak memory of a whole process (KiB) as GNU time reports it: runs `cmd` to its end.
    /// (wait4 from this big process would count the memory of the fork before the exec.)
    fn max_rss(cmd: &mut std::process::Command) -> u64 {
        let out = std::process::Command::new("/usr/bin/time")
            .args(["-f", "%M"])
            .arg(cmd.get_program())
            .args(cmd.get_args())
            .envs(cmd.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
            .stdout(Stdio::null())
            .output()
            .expect("GNU time (Debian package `time`)");
        let text = String::from_utf8_lossy(&out.stderr);
        let kib = text.lines().last().and_then(|l| l.trim().parse().ok());
        assert!(out.status.success(), "{cmd:?} failed: {text}");
        kib.unwrap_or_else(|| panic!("no figure from GNU time: {text}"))
    }

    /// `autochase upload` of 14 real-size replays in one process, against python-ballchasing
    /// 0.5.4 uploading the same files to the same server (when `benches/client_overhead/run.sh`
    /// has made its venv).
    async fn real_oneshot() {
        let fake = FakeBallchasing::start().await;
        let work = Work::new(&fake, "");
        real_size(&work, 14, "U");
        let mut ours = command(&work.config);
        ours.arg("upload").arg(&work.demos);
        let autochase = tokio::task::spawn_blocking(move || max_rss(&mut ours))
            .await
            .unwrap();
        assert_eq!(fake.created(), 14);
        let python = PathBuf::from("target/bench-venv/bin/python");
        let theirs = if python.exists() {
            let other = Work::new(&fake, "");
            real_size(&other, 14, "P");
            let script = "import ballchasing,sys\napi=ballchasing.Api(sys.argv[2],base_url=sys.argv[1],do_initial_ping=False)\nfor p in sys.argv[3:]:\n    api.upload_replay(p, visibility='private')\n";
            let mut cmd = std::process::Command::new(&python);
            cmd.arg("-c").arg(script).arg(fake.server.url()).arg(TOKEN);
            let mut files: Vec<PathBuf> = std::fs::read_dir(&other.demos)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            files.sort();
            cmd.args(files);
            let kib = tokio::task::spawn_blocking(move || max_rss(&mut cmd))
                .await
                .unwrap();
            format!("python-ballchasing 0.5.4 {} on the same files", mib(kib))
        } else {
            "python-ballchasing not measured (run benches/client_overhead/run.sh once)".into()
        };
        row(
            "real size: `autochase upload` of 14 replays of 1 MB (one-shot)",
            format!("peak RSS {}; {theirs}", mib(autochase)),
            "≤ 12 MiB, a third of the Python clients",
        );
    }
}
