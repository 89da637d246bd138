// C++ half of the ELF symbolization fixture: a mangled method name,
// _ZN2ns6Widget4spinEi, that must come out as ns::Widget::spin(int).
namespace ns {
struct Widget {
	int spin(int turns);
	volatile int state;
};

__attribute__((noinline)) int Widget::spin(int turns)
{
	for (int i = 0; i < turns; i++)
		state = state * 31 + i;
	return state;
}
} // namespace ns

extern "C" int pyro_fixture_spin_widget(int turns)
{
	ns::Widget widget{};
	return widget.spin(turns);
}
