/* cmd_launch.c — a command run as an Open MPI job from inside qvae (cmd_launch_ranks, cmd.h).
 *
 * The job is this very program under `mpirun --oversubscribe -np N`, given the line
 * `session load TMP; COMMAND …`: the current session is first saved as TMP (a new name, so the
 * user's checkpoints are never touched by the job), and every rank loads it (src/par.h: rank 0
 * alone writes).  No protocol of our own: rank 0's output lines come back through a pipe and are
 * re-emitted here (errors as errors), the rows rank 0 appends to TMP's metrics.csv become
 * metrics events, which is what the TUI's loss panel draws, and the digit grid rank 0 writes to
 * TMP's grids/ after every epoch becomes an IMAGES event (the digits panel).  Stopping (Ctrl-C, `train stop`,
 * the TUI's stop) sends SIGTERM to mpirun's process group; Open MPI then ends every rank, and
 * the job's checkpoints, written atomically, stay whole.  `train pause` / `resume` send mpirun
 * SIGTSTP / SIGCONT, which it forwards to every rank as SIGSTOP / SIGCONT
 * (orte_forward_job_control).  After a training job TMP is loaded
 * back (also after a stop: its last checkpoint), saved under the current name with the job's
 * metrics rows appended, and removed. */
#include "cmd.h"
#include "data.h"
#include "par.h"
#include "png.h"
#include "session.h"
#include "train.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LAUNCH_MAX_RANKS 4096

/* The job's state while it runs: the pipe of its output, the metrics.csv being tailed. */
struct job {
    struct qv_app *app;
    const char *what;        /* "train" or "eval ll": the prefix of our own messages */
    pid_t pid;
    int fd;
    char line[4096];
    size_t len;
    char csv[4200];          /* TMP's metrics.csv */
    long csv_off;
    char grids[4200];        /* TMP's grids/ folder: rank 0's digit grid after every epoch */
    long grid_epoch;         /* the newest grid shown (-1: none yet) */
    int img_h, img_w;        /* the data set's image size (0: no data, no grids) */
    int errors;              /* error lines the job printed */
};

/* true if an executable `name` is on PATH (the error otherwise names what to install). */
static bool on_path(const char *name)
{
    const char *path = getenv("PATH");
    if (!path) return false;
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, ":");
        char f[4200];
        snprintf(f, sizeof f, "%.*s/%s", (int)n, p, name);
        if (n > 0 && access(f, X_OK) == 0) return true;
        p += n + (p[n] == ':');
    }
    return false;
}

/* Appends ' word ' (single-quoted, ' as '\'') to out [n]; false when it does not fit. */
static bool add_word(char *out, size_t n, const char *w)
{
    size_t o = strlen(out);
    if (o + 4 * strlen(w) + 4 >= n) return false;
    out[o++] = '\'';
    for (; *w; w++) {
        if (*w == '\'') { memcpy(out + o, "'\\''", 4); o += 4; }
        else out[o++] = *w;
    }
    out[o++] = '\'';
    out[o++] = ' ';
    out[o] = 0;
    return true;
}

/* The job's command line: load TMP, then the command with its arguments but without the
 * options that launched it.  -1 when it is too long. */
static int job_line(const struct cmd_args *a, const char *tmp, const char *root, char *out, size_t n)
{
    snprintf(out, n, "session load ");
    bool ok = add_word(out, n, tmp) && add_word(out, n, "--dir") && add_word(out, n, root);
    size_t o = strlen(out);
    snprintf(out + o, n - o, "; %s ", a->path);
    for (int i = 0; i < a->npos && ok; i++) ok = add_word(out, n, a->pos[i]);
    for (int i = 0; i < a->nopt && ok; i++) {
        const char *name = a->opt[i].opt->name;
        if (!strcmp(name, "ranks") || !strcmp(name, "hostfile")) continue;
        char flag[64];
        snprintf(flag, sizeof flag, "--%s", name);
        ok = add_word(out, n, flag);
        if (ok && a->opt[i].opt->type != CMD_OPT_FLAG) ok = add_word(out, n, a->opt[i].val);
    }
    return ok ? 0 : -1;
}

/* One metrics.csv row (step,epoch,elbo,rec,kl,kl_weight,lr,images_per_s,val_elbo,active_units,
 * seconds[,val_elbo_z]; empty = not measured) as the metrics event training emits. */
static void emit_row(struct qv_app *app, const char *row)
{
    double v[12];
    const char *p = row;
    for (int k = 0; k < 12; k++) {
        char *end;
        v[k] = strtod(p, &end);
        if (end == p) v[k] = NAN;
        p = strchr(p, ',');
        if (!p) {
            for (int j = k + 1; j < 12; j++) v[j] = NAN;
            break;
        }
        p++;
    }
    if (!isfinite(v[0])) return;   /* the header, or a torn line */
    struct qv_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = QV_EV_METRICS;
    ev.m.step = (long)v[0];
    ev.m.epoch = v[1];
    ev.m.elbo = v[2];
    ev.m.rec = v[3];
    ev.m.kl = v[4];
    ev.m.lr = v[6];
    ev.m.ips = v[7];
    ev.m.val_elbo = v[8];
    ev.m.active_units = isfinite(v[9]) ? (int)v[9] : -1;
    ev.m.val_elbo_z = v[11];
    ev.m.val_ll = NAN;
    qv_emit(app, &ev);
}

/* The complete rows rank 0 added to metrics.csv since the last look. */
static void tail_metrics(struct job *j)
{
    FILE *f = fopen(j->csv, "r");
    if (!f) return;
    char row[1024];
    if (fseek(f, j->csv_off, SEEK_SET) == 0)
        while (fgets(row, sizeof row, f)) {
            size_t n = strlen(row);
            if (n == 0 || row[n - 1] != '\n') break;   /* being written: read it next time */
            j->csv_off += (long)n;
            emit_row(j->app, row);
        }
    fclose(f);
}

/* The newest epoch grid rank 0 wrote (train_emit_grid: 2 rows of h×w digits at scale 2, 1-pixel
 * margins, cells past the last digit black), cut back into its digits and emitted as an IMAGES
 * event, so the digits panel follows a --ranks job as it follows a local one. */
static void tail_grids(struct job *j)
{
    if (j->img_h < 1 || j->img_w < 1) return;
    DIR *d = opendir(j->grids);
    if (!d) return;
    long newest = -1;
    for (struct dirent *e; (e = readdir(d));) {
        long ep;
        char tail[8];
        if (sscanf(e->d_name, "epoch-%ld.pn%1s", &ep, tail) == 2 && !strcmp(tail, "g") && ep > newest) newest = ep;
    }
    closedir(d);
    if (newest <= j->grid_epoch) return;
    char path[4300];
    snprintf(path, sizeof path, "%s/epoch-%04ld.png", j->grids, newest);
    unsigned char *px;
    int W, H;
    if (png_read_grey(path, &px, &W, &H) < 0) return;   /* a later poll tries the next one */
    j->grid_epoch = newest;
    const int h = j->img_h, w = j->img_w, sc = TRAIN_GRID_SCALE, mg = TRAIN_GRID_MARGIN, rows = TRAIN_GRID_ROWS;
    const int cols = (W - mg) / (w * sc + mg);
    if (cols < 1 || H != rows * (h * sc + mg) + mg || W != cols * (w * sc + mg) + mg) {
        free(px);
        return;   /* not the layout train_emit_grid writes */
    }
    float *img = qv_malloc(sizeof(float) * (size_t)rows * cols * h * w);
    int n = 0, last = 0;
    for (int k = 0; k < rows * cols; k++, n++) {
        const int x0 = mg + (k % cols) * (w * sc + mg), y0 = mg + (k / cols) * (h * sc + mg);
        bool any = false;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                unsigned char v = px[(size_t)(y0 + y * sc) * W + x0 + x * sc];
                img[((size_t)k * h + y) * w + x] = v / 255.0f;
                any |= v != 0;
            }
        if (any) last = k + 1;
    }
    free(px);
    if (last > 0) {
        char title[64];
        snprintf(title, sizeof title, "generated, epoch %ld", newest);
        struct qv_event ev = {.kind = QV_EV_IMAGES, .job = title, .n = last, .h = h, .w = w, .values = img};
        qv_emit(j->app, &ev);
    }
    free(img);
}

/* Re-emits one line of the job's output: its errors and warnings as ours. */
static void job_emit(struct job *j, const char *s)
{
    if (!strncmp(s, "error: ", 7)) {
        qv_error(j->app, "%s: the MPI job: %s", j->what, s + 7);
        j->errors++;
    }
    else if (!strncmp(s, "warning: ", 9)) qv_warn(j->app, "%s", s + 9);
    else if (!strncmp(s, "mpirun: Forwarding signal", 25)) return;   /* our own pause / resume */
    else qv_printf(j->app, "%s", s);
}

/* Reads what the pipe holds; false at its end. */
static bool job_read(struct job *j)
{
    char buf[4096];
    ssize_t r = read(j->fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) return true;
    if (r <= 0) {
        if (j->len) {
            j->line[j->len] = 0;
            job_emit(j, j->line);
            j->len = 0;
        }
        return false;
    }
    for (ssize_t i = 0; i < r; i++) {
        if (buf[i] == '\n' || j->len == sizeof j->line - 1) {
            j->line[j->len] = 0;
            job_emit(j, j->line);
            j->len = 0;
        }
        if (buf[i] != '\n') j->line[j->len++] = buf[i];
    }
    return true;
}

/* Starts mpirun in its own process group with stdout and stderr into one pipe.  -1 + error. */
static int job_start(struct job *j, long ranks, const char *hostfile, const char *line)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return qv_seterr("cannot find this program's path (/proc/self/exe): %s", strerror(errno));
    self[n] = 0;
    char np[32];
    snprintf(np, sizeof np, "%ld", ranks);
    const char *argv[40];
    int k = 0;
    argv[k++] = "mpirun";
    argv[k++] = "-q";   /* no banners: our own line says when the job failed */
    argv[k++] = "--oversubscribe";
    /* `train pause`: mpirun turns our SIGTSTP into SIGSTOP for every rank, SIGCONT resumes */
    argv[k++] = "--mca";
    argv[k++] = "orte_forward_job_control";
    argv[k++] = "1";
    argv[k++] = "-np";
    argv[k++] = np;
    if (hostfile) {
        argv[k++] = "--hostfile";
        argv[k++] = hostfile;
    }
    /* the ranks on other nodes see the same folders and choices as this process */
    static const char *const pass[] = {"QVAE_SESSIONS", "QVAE_DATA", "QVAE_HOME", "QVAE_SHARED",
                                       "QVAE_ISA", "OPENBLAS_NUM_THREADS"};
    for (size_t i = 0; i < sizeof pass / sizeof *pass; i++)
        if (getenv(pass[i])) {
            argv[k++] = "-x";
            argv[k++] = pass[i];
        }
    argv[k++] = self;
    argv[k++] = "-c";
    argv[k++] = line;
    argv[k] = NULL;
    int fds[2];
    if (pipe(fds) < 0) return qv_seterr("pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return qv_seterr("fork: %s", strerror(errno));
    }
    if (pid == 0) {
        setpgid(0, 0);   /* a stop signals the job's group, never ours */
        /* the workbench's worker threads block SIGINT/SIGTERM/SIGHUP (the UI thread takes them)
         * and a mask survives fork and exec: mpirun would never see our stop */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGTTIN, SIG_DFL);
        signal(SIGTTOU, SIG_DFL);
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        if (geteuid() == 0) {   /* Open MPI refuses root unless told twice */
            setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
            setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
        }
        execvp("mpirun", (char *const *)argv);
        fprintf(stderr, "error: mpirun: %s\n", strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);   /* also here: no race with a stop that comes at once */
    close(fds[1]);
    j->pid = pid;
    j->fd = fds[0];
    return 0;
}

/* Streams the job until it ends; a cancel stops it.  Returns mpirun's wait status; *stopped. */
static int job_follow(struct job *j, bool *stopped)
{
    *stopped = false;
    bool paused = false;
    for (bool open = true; open;) {
        struct pollfd p = {.fd = j->fd, .events = POLLIN};
        int r = poll(&p, 1, 200);
        if (r > 0) open = job_read(j);
        tail_metrics(j);
        tail_grids(j);
        if (!*stopped && qv_cancelled(j->app)) {
            *stopped = true;
            qv_printf(j->app, "%s: stopping every rank of the job", j->what);
            if (paused) kill(j->pid, SIGCONT);   /* stopped ranks would not see the end */
            kill(-j->pid, SIGTERM);
        } else if (!*stopped && (atomic_load(&j->app->pause) != 0) != paused) {
            /* `train pause` / `train resume`: every rank held where it is (SIGSTOP) or let go;
             * a training step depends on nothing but its inputs, so the result is the same */
            paused = !paused;
            kill(j->pid, paused ? SIGTSTP : SIGCONT);
            qv_printf(j->app, paused ? "%s: every rank of the job is held (`train resume` continues)"
                                     : "%s: the job's ranks continue", j->what);
        }
    }
    close(j->fd);
    int st = 0;
    while (waitpid(j->pid, &st, 0) < 0 && errno == EINTR) {}
    tail_metrics(j);
    return st;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb; (void)flag; (void)f;
    remove(p);
    return 0;
}

/* Appends TMP's metrics rows (not its header) to the current session's metrics.csv. */
static void merge_metrics(struct qv_app *app, const char *csv)
{
    char dir[4096], path[4200];
    if (session_current_dir(app, dir, sizeof dir) < 0) return;
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    FILE *in = fopen(csv, "r");
    if (!in) return;
    bool fresh = access(path, F_OK) != 0;
    FILE *out = fopen(path, "a");
    char row[1024];
    for (bool first = true; out && fgets(row, sizeof row, in); first = false)
        if (!first || fresh) fputs(row, out);
    if (out && fclose(out) != 0) qv_warn(app, "metrics.csv: %s", strerror(errno));
    fclose(in);
}

/* true if the job checkpointed (TMP's manifest is past the generation of our first save). */
static bool job_checkpointed(const char *dir)
{
    char path[4200], buf[4096];
    snprintf(path, sizeof path, "%s/session.json", dir);
    FILE *f = fopen(path, "r");
    if (!f) return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *g = strstr(buf, "\"generation\":");
    return g && strtol(g + 13, NULL, 10) > 1;
}

/* After a training job: TMP becomes the current state, checkpointed under the current name. */
static int load_back(struct qv_app *app, const char *what, const char *tmp, const char *orig,
                     const char *csv, bool save)
{
    if (session_load(app, tmp, NULL) < 0) return qv_error(app, "%s: loading the job's session %s: %s", what, tmp, qv_errmsg());
    snprintf(app->session_name, sizeof app->session_name, "%s", orig);
    if (save && session_save(app, orig, NULL) < 0) return qv_error(app, "%s: checkpoint: %s", what, qv_errmsg());
    merge_metrics(app, csv);
    return 0;
}

int cmd_launch_ranks(struct qv_app *app, const struct cmd_args *a, bool train)
{
    const char *what = a->path;
    const long ranks = cmd_int(a, "ranks", 1);
    const char *hostfile = cmd_has(a, "hostfile") ? cmd_str(a, "hostfile", "") : NULL;
    if (ranks < 1 || ranks > LAUNCH_MAX_RANKS)
        return qv_error(app, "%s: --ranks must be 1..%d, got %ld", what, LAUNCH_MAX_RANKS, ranks);
    if (hostfile && access(hostfile, R_OK) != 0)
        return qv_error(app, "%s: --hostfile %s: %s", what, hostfile, strerror(errno));
    if (par_active()) return qv_error(app, "%s: --ranks inside an MPI job (run it from a plain qvae)", what);
    if (!on_path("mpirun"))
        return qv_error(app, "%s: --ranks: mpirun is not on PATH (install openmpi-bin)", what);
    char orig[sizeof app->session_name], tmp[64], line[8192];
    snprintf(orig, sizeof orig, "%s", app->session_name);
    snprintf(tmp, sizeof tmp, "mpi-job-%ld", (long)getpid());
    if (job_line(a, tmp, app->session_dir, line, sizeof line) < 0) return qv_error(app, "%s: the command is too long", what);
    if (session_save(app, tmp, NULL) < 0) return qv_error(app, "%s: %s", what, qv_errmsg());
    struct job j = {.app = app, .what = what};
    char dir[4096] = "";
    session_current_dir(app, dir, sizeof dir);
    snprintf(app->session_name, sizeof app->session_name, "%s", orig);   /* the job's, not ours */
    snprintf(j.csv, sizeof j.csv, "%s/metrics.csv", dir);
    snprintf(j.grids, sizeof j.grids, "%s/grids", dir);
    j.grid_epoch = -1;
    if (train && app->st.data) { j.img_h = app->st.data->h; j.img_w = app->st.data->w; }
    atomic_store(&app->cancel, 0);
    if (job_start(&j, ranks, hostfile, line) < 0) {
        nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
        return qv_error(app, "%s: %s", what, qv_errmsg());
    }
    bool stopped;
    const int st = job_follow(&j, &stopped);
    const bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    int rc = 0;
    if (!ok && !stopped) {
        char kept[128] = "";
        if (train && job_checkpointed(dir)) snprintf(kept, sizeof kept, "; the job's last checkpoint is session %s", tmp);
        else nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
        /* the job's own error line (re-emitted above) says what went wrong: one line, not two */
        if (j.errors) {
            qv_printf(app, "%s: the current state is unchanged%s", what, kept);
            return -1;
        }
        return qv_error(app, "%s: the MPI job failed (%s %d; a rank ended abnormally); the current state "
                        "is unchanged%s", what, WIFEXITED(st) ? "exit status" : "signal",
                        WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), kept);
    }
    if (train) rc = load_back(app, what, tmp, orig, j.csv, !cmd_has(a, "no-save"));
    if (rc == 0) nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    if (rc == 0 && stopped)
        qv_printf(app, "%s: the job was stopped%s", what,
                  train ? "; the session holds its last checkpoint (`train N` continues)" : "");
    return rc;
}
