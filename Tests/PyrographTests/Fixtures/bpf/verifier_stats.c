/* Loads a BPF object as pyrograph would (unwind tables sized, the pid
 * filter on or off) and prints how many instructions the verifier
 * processed for one of its programs: the figure the kernel caps at one
 * million. The object's other programs are not loaded.
 * usage: verifier_stats OBJECT PROGRAM [filter] */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char log_buffer[1 << 20];

/* The pid filter is a `const volatile bool` in .rodata; the loader sets it
 * before load and the verifier prunes by it. Found by name in the BTF of
 * .rodata; an object without it passes unless the filter is asked for. */
static int set_pid_filter(struct bpf_object *object, bool value)
{
	struct btf *btf = bpf_object__btf(object);
	const struct btf_var_secinfo *variable;
	const struct btf_type *section;
	struct bpf_map *map;
	int id, index;

	id = btf ? btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC) : -1;
	if (id < 0)
		return value ? -1 : 0;
	section = btf__type_by_id(btf, id);
	variable = btf_var_secinfos(section);
	for (index = 0; index < btf_vlen(section); index++, variable++) {
		const char *name = btf__name_by_offset(btf, btf__type_by_id(btf, variable->type)->name_off);

		if (strcmp(name, "filter_by_pid"))
			continue;
		bpf_object__for_each_map(map, object) {
			size_t size;
			char *data;

			if (!strstr(bpf_map__name(map), ".rodata"))
				continue;
			data = (char *)bpf_map__initial_value(map, &size);
			if (!data || variable->offset >= size)
				return -1;
			data[variable->offset] = value;
			return 0;
		}
	}
	return value ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct bpf_object *object;
	struct bpf_program *program;
	char *line;

	if (argc < 3)
		return 2;
	object = bpf_object__open_file(argv[1], NULL);
	if (!object) {
		perror("open");
		return 1;
	}
	if (set_pid_filter(object, argc > 3 && !strcmp(argv[3], "filter"))) {
		fprintf(stderr, "no filter_by_pid in .rodata\n");
		return 1;
	}
	bpf_map__set_max_entries(bpf_object__find_map_by_name(object, "unwind_rows"), 1 << 21);
	bpf_map__set_max_entries(bpf_object__find_map_by_name(object, "unwind_pages"), 1 << 19);
	/* Only the one program: the hooks are small, and some are optional. */
	bpf_object__for_each_program(program, object) {
		if (!strcmp(bpf_program__name(program), argv[2])) {
			bpf_program__set_log_buf(program, log_buffer, sizeof(log_buffer));
			bpf_program__set_log_level(program, 4);
		} else {
			bpf_program__set_autoload(program, false);
		}
	}
	if (bpf_object__load(object)) {
		fprintf(stderr, "load failed\n%s", log_buffer);
		return 1;
	}
	line = strstr(log_buffer, "processed ");
	if (!line)
		return 1;
	printf("%s %ld\n", argv[2], strtol(line + strlen("processed "), NULL, 10));
	bpf_object__close(object);
	return 0;
}
